package io.flotilla.router;

import java.util.function.DoubleSupplier;

/**
 * Exponential, bounded, jittered retry delay: retry n waits a uniformly random time in
 * {@code [d/2, d]} where {@code d = min(max, min * 2^n)}. The jitter keeps clients that hit the
 * same busy region from retrying in lockstep.
 *
 * <p>Threads: not thread-safe; owned by one call.
 */
final class RetryBackoff {

  private final long minNanos;
  private final long maxNanos;
  private final DoubleSupplier random;
  private int attempt;

  RetryBackoff(long minNanos, long maxNanos, DoubleSupplier random) {
    if (minNanos <= 0 || maxNanos < minNanos) {
      throw new IllegalArgumentException("backoff needs 0 < min <= max, got min=" + minNanos
          + " ns max=" + maxNanos + " ns");
    }
    this.minNanos = minNanos;
    this.maxNanos = maxNanos;
    this.random = random;
  }

  long nextDelayNanos() {
    long d = attempt >= 62 || (minNanos << attempt) >>> attempt != minNanos
        ? maxNanos
        : Math.min(maxNanos, minNanos << attempt);
    attempt = Math.min(attempt + 1, 62);
    return d / 2 + (long) (random.getAsDouble() * (d - d / 2));
  }
}
