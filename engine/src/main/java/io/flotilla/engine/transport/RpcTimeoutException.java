package io.flotilla.engine.transport;

/**
 * An RPC's deadline passed before its response arrived. The outcome is unknown: the server may have
 * executed the request, may still execute it, or may never have received it.
 */
public final class RpcTimeoutException extends TransportException {
  private static final long serialVersionUID = 1L;

  private final String target;
  private final String method;
  private final long deadlineMs;

  public RpcTimeoutException(String target, String method, long deadlineMs) {
    super("rpc " + method + " to " + target + " got no response within " + deadlineMs
        + " ms; outcome unknown");
    this.target = target;
    this.method = method;
    this.deadlineMs = deadlineMs;
  }

  public String target() {
    return target;
  }

  public String method() {
    return method;
  }

  public long deadlineMs() {
    return deadlineMs;
  }
}
