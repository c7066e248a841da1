package io.flotilla.engine.transport;

import io.netty.util.Timeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One outstanding RPC on the caller's side: created on the calling thread, then owned by one event
 * loop, which starts its deadline timer, writes it and completes it.
 *
 * <p>The future is completed exactly once (first of: response, deadline, connection loss); later
 * outcomes are ignored. Futures complete on the event loop: dependants that do real work should use
 * the {@code *Async} stages.
 */
final class PendingCall {

  final String target;
  final String method;
  final byte[] request;
  final long deadlineMs;
  final long deadlineNanos;
  final CompletableFuture<byte[]> future = new CompletableFuture<>();

  // Event-loop confined from here on.
  private Timeout timer;
  private ClientConnection connection;
  private long correlationId;

  PendingCall(String target, String method, byte[] request, long deadlineMs, long nowNanos) {
    this.target = target;
    this.method = method;
    this.request = request;
    this.deadlineMs = deadlineMs;
    this.deadlineNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
  }

  /**
   * Starts the deadline; call on the event loop that will own this call. The deadline is kept on
   * the JVM's timer wheel ({@link Deadlines}) and expires the call on its event loop.
   */
  void startTimer(io.netty.channel.EventLoop loop, TransportMetrics metrics) {
    timer = Deadlines.after(deadlineMs, TimeUnit.MILLISECONDS, () -> {
      try {
        loop.execute(() -> expire(metrics));
      } catch (RejectedExecutionException closing) {
        future.completeExceptionally(new RpcTimeoutException(target, method, deadlineMs));
      }
    });
  }

  private void expire(TransportMetrics metrics) {
    // NB: count before completing, so whoever sees the timeout also sees it counted. Responses
    // complete calls on this same event loop, so the check cannot race with them.
    if (!future.isDone()) {
      metrics.rpcTimeouts.increment();
      if (connection != null) {
        connection.forget(correlationId);
      }
      future.completeExceptionally(new RpcTimeoutException(target, method, deadlineMs));
    }
  }

  /** Milliseconds left before the deadline, at least 0. */
  long remainingMs(long nowNanos) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - nowNanos));
  }

  void sentOn(ClientConnection c, long id) {
    connection = c;
    correlationId = id;
  }

  void succeed(byte[] response) {
    cancelTimer();
    future.complete(response);
  }

  void fail(Throwable cause) {
    cancelTimer();
    future.completeExceptionally(cause);
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel();
    }
  }
}
