package io.flotilla.engine.transport;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * RPC for processes that are not nodes (the router, tools): calls a node by address over the same
 * protocol nodes use, identifying itself as node 0. One connection per address, dialed on first use
 * and re-dialed by the next call after it is lost.
 *
 * <p>Threads: any thread. Futures complete on the client's event loop threads ({@code
 * flotilla-transport-client-*}); use the {@code *Async} stages for real work.
 */
public final class RpcClient implements AutoCloseable {

  /** Bytes an RpcRequest frame adds around the payload and method name, with room to spare. */
  private static final int REQUEST_ENVELOPE_BYTES = 64;

  private final TransportConfig config;
  private final TransportMetrics metrics = new TransportMetrics();
  private final EventLoops loops;
  private final AddressLinks links;

  public RpcClient(TransportConfig config) {
    this.config = config.validate();
    this.loops = EventLoops.create("client", config.ioThreads(), config.preferNativeTransport());
    Dialer dialer = new Dialer(0, config, loops, metrics, new PeerLiveness(System::nanoTime));
    this.links = new AddressLinks(dialer, loops.group);
  }

  /**
   * Calls {@code method} at {@code address}; fails with the exceptions described at {@link
   * RaftTransport#call(long, String, byte[], Duration)}.
   *
   * @param request ownership passes to the client: do not modify it afterwards
   */
  public CompletableFuture<byte[]> call(InetSocketAddress address, String method, byte[] request,
      Duration deadline) {
    PendingCall call = newCall(address.toString(), method, request, deadline, config);
    metrics.rpcCalls.increment();
    if (!call.future.isDone()) {
      links.call(address, call);
    }
    return call.future;
  }

  public TransportMetrics metrics() {
    return metrics;
  }

  /** Closes the connections (outstanding calls fail with ConnectionLostException). */
  @Override
  public void close() {
    links.close();
    loops.close();
  }

  /** Checks a call's arguments; the returned call is already failed if it cannot be sent. */
  static PendingCall newCall(String target, String method, byte[] request, Duration deadline,
      TransportConfig config) {
    if (method == null || method.isEmpty() || request == null || deadline == null) {
      throw new IllegalArgumentException("method, request and deadline are required, got method="
          + method + " deadline=" + deadline);
    }
    long deadlineMs = deadline.toMillis();
    if (deadlineMs <= 0) {
      throw new IllegalArgumentException("deadline must be at least 1 ms, got " + deadline);
    }
    PendingCall call = new PendingCall(target, method, request, deadlineMs, System.nanoTime());
    long frameBytes = (long) request.length + 3L * method.length() + REQUEST_ENVELOPE_BYTES;
    if (frameBytes > config.maxFrameBytes()) {
      call.fail(new FrameTooLargeException(frameBytes, config.maxFrameBytes()));
    }
    return call;
  }
}
