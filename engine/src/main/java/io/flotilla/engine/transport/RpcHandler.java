package io.flotilla.engine.transport;

import java.util.concurrent.CompletableFuture;

/**
 * Serves one RPC method. Register with {@link RaftTransport#registerRpc}.
 *
 * <p>Threads: {@link #handle} is called on a transport event loop thread and must not block; do slow
 * work elsewhere and complete the future from there (any thread). The response is written whenever
 * the future completes and is never dropped while the connection lives; a handler that throws or
 * completes exceptionally answers {@link RpcErrorCode#HANDLER_FAILED} with the exception's message.
 */
@FunctionalInterface
public interface RpcHandler {

  /**
   * @param request the request bytes, owned by the handler
   * @return the response bytes; ownership passes to the transport (do not modify them afterwards)
   */
  CompletableFuture<byte[]> handle(byte[] request);
}
