package io.flotilla.engine.transport;

import java.util.function.DoubleSupplier;

/**
 * Exponential, bounded, jittered re-dial delay: attempt n waits a uniformly random time in
 * {@code [d/2, d]} where {@code d = min(max, min * 2^n)}. The jitter keeps nodes that lost the same
 * peer from re-dialing in lockstep.
 *
 * <p>Threads: not thread-safe; owned by one {@link PeerLink}'s event loop.
 */
final class Backoff {

  private final long minMs;
  private final long maxMs;
  private final DoubleSupplier random;
  private int attempt;

  Backoff(long minMs, long maxMs, DoubleSupplier random) {
    if (minMs <= 0 || maxMs < minMs) {
      throw new IllegalArgumentException("backoff needs 0 < min <= max, got min=" + minMs
          + " max=" + maxMs);
    }
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.random = random;
  }

  long nextDelayMs() {
    long d = attempt >= 62 || (minMs << attempt) >>> attempt != minMs
        ? maxMs
        : Math.min(maxMs, minMs << attempt);
    attempt = Math.min(attempt + 1, 62);
    return d / 2 + (long) (random.getAsDouble() * (d - d / 2));
  }

  void reset() {
    attempt = 0;
  }
}
