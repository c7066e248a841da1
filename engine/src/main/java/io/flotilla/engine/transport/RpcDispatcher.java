package io.flotilla.engine.transport;

import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.engine.proto.RpcRequest;
import io.flotilla.engine.proto.RpcResponse;
import io.flotilla.engine.proto.RpcStatus;
import io.netty.channel.Channel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server side of RPC: method name to {@link RpcHandler}, and the answer to every request.
 *
 * <p>Every request gets exactly one response, written on the connection it came in on as soon as
 * the handler's future completes: responses are never dropped or queued behind a bound (the server
 * stops reading a connection whose outbound buffer is full instead, see {@link ServerConnection}).
 *
 * <p>Threads: {@link #register}/{@link #unregister} from any thread; {@link #serve} on the
 * connection's event loop; responses are encoded and written on that event loop too, whichever
 * thread completes the handler's future.
 */
final class RpcDispatcher {

  /** Bytes an RpcResponse frame adds around its payload, with room to spare. */
  private static final int RESPONSE_ENVELOPE_BYTES = 64;

  private final long ownNodeId;
  private final int maxFrameBytes;
  private final TransportMetrics metrics;
  private final ConcurrentHashMap<String, RpcHandler> handlers = new ConcurrentHashMap<>();

  RpcDispatcher(long ownNodeId, int maxFrameBytes, TransportMetrics metrics) {
    this.ownNodeId = ownNodeId;
    this.maxFrameBytes = maxFrameBytes;
    this.metrics = metrics;
  }

  void register(String method, RpcHandler handler) {
    if (method == null || method.isEmpty() || handler == null) {
      throw new IllegalArgumentException("method and handler are required, got method=" + method);
    }
    RpcHandler previous = handlers.putIfAbsent(method, handler);
    if (previous != null) {
      throw new IllegalStateException("rpc method '" + method + "' is already registered on node "
          + ownNodeId);
    }
  }

  void unregister(String method) {
    handlers.remove(method);
  }

  /** Runs the request's handler; the request's payload is copied before this returns. */
  void serve(Channel channel, RpcRequest request) {
    long id = request.getCorrelationId();
    RpcHandler handler = handlers.get(request.getMethod());
    if (handler == null) {
      error(channel, id, io.flotilla.engine.proto.RpcErrorCode.RPC_ERROR_UNKNOWN_METHOD,
          "no handler for method '" + request.getMethod() + "' on node " + ownNodeId);
      return;
    }
    byte[] payload = request.getPayload().toByteArray();
    CompletableFuture<byte[]> response;
    try {
      response = handler.handle(payload);
      if (response == null) {
        response = CompletableFuture.failedFuture(
            new IllegalStateException("handler returned a null future"));
      }
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    response.whenComplete((bytes, error) -> {
      // NB: encoded and written on the connection's event loop, not on the thread that completed
      // the handler (a store's Raft poller, whose rounds every write waits for).
      if (channel.eventLoop().inEventLoop()) {
        respond(channel, id, bytes, error);
      } else {
        channel.eventLoop().execute(() -> respond(channel, id, bytes, error));
      }
    });
  }

  private void respond(Channel channel, long id, byte[] bytes, Throwable error) {
    if (error != null) {
      Throwable cause = error instanceof CompletionException && error.getCause() != null
          ? error.getCause() : error;
      error(channel, id, io.flotilla.engine.proto.RpcErrorCode.RPC_ERROR_HANDLER_FAILED,
          cause.toString());
      return;
    }
    byte[] payload = bytes == null ? new byte[0] : bytes;
    if ((long) payload.length + RESPONSE_ENVELOPE_BYTES > maxFrameBytes) {
      error(channel, id, io.flotilla.engine.proto.RpcErrorCode.RPC_ERROR_RESPONSE_TOO_LARGE,
          "response of " + payload.length + " bytes exceeds maxFrameBytes = " + maxFrameBytes);
      return;
    }
    write(channel, RpcResponse.newBuilder()
        .setCorrelationId(id)
        .setStatus(RpcStatus.RPC_STATUS_OK)
        .setPayload(UnsafeByteOperations.unsafeWrap(payload)));
  }

  private void error(Channel channel, long id, io.flotilla.engine.proto.RpcErrorCode code,
      String message) {
    write(channel, RpcResponse.newBuilder()
        .setCorrelationId(id)
        .setStatus(RpcStatus.RPC_STATUS_ERROR)
        .setErrorCode(code)
        .setErrorMessage(message.length() > 4096 ? message.substring(0, 4096) : message));
  }

  private void write(Channel channel, RpcResponse.Builder response) {
    metrics.rpcRequestsServed.increment();
    channel.writeAndFlush(
        Frames.encode(channel.alloc(), Frames.frame().setRpcResponse(response).build()),
        channel.voidPromise());
  }
}
