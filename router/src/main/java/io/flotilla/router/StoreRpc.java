package io.flotilla.router;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * How the router calls a store: the shape of {@link io.flotilla.engine.transport.RpcClient#call},
 * so {@code rpcClient::call} is one; tests pass an in-process fake.
 *
 * <p>The future fails with the transport's exceptions: {@link
 * io.flotilla.engine.transport.RpcTimeoutException} (no answer within {@code deadline}), {@link
 * io.flotilla.engine.transport.ConnectionLostException}, {@link
 * io.flotilla.engine.transport.RemoteRpcException}, {@link
 * io.flotilla.engine.transport.FrameTooLargeException}.
 *
 * <p>Threads: called from router threads; must not block.
 */
@FunctionalInterface
public interface StoreRpc {

  /** Calls {@code method} (a {@code kv.*} name) on the store at {@code address}. */
  CompletableFuture<byte[]> call(InetSocketAddress address, String method, byte[] request,
      Duration deadline);
}
