package io.flotilla.engine.transport;

/** The server answered an RPC with an error. The request was not (fully) executed as asked. */
public final class RemoteRpcException extends TransportException {
  private static final long serialVersionUID = 1L;

  private final RpcErrorCode code;

  public RemoteRpcException(RpcErrorCode code, String message) {
    super(code + ": " + message);
    this.code = code;
  }

  public RpcErrorCode code() {
    return code;
  }
}
