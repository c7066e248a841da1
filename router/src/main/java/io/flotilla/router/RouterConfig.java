package io.flotilla.router;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * How a router client behaves. Immutable; {@link #validate()} names the first bad setting and its
 * allowed range.
 *
 * @param pdAddresses the placement driver members (any of them; the PD client finds the leader).
 *     May be empty when the client is built with a {@link io.flotilla.engine.client.PdClient}.
 * @param timeout the per-call deadline: everything a call does (PD look-ups, retries, backoff)
 *     fits in it; for a scan, each page has its own
 * @param attemptTimeout the deadline of one RPC attempt within a call (capped by what is left of
 *     the call's); after it the router tries again, with the same sequence number for a write
 * @param backoffMin the first retry delay after an error that needs one (server busy, no leader)
 * @param backoffMax the longest retry delay; delays double from min to max, with jitter
 * @param scanPageSize pairs per scan request
 * @param maxKeyBytes the largest key, as the store enforces it ({@code max-key-bytes})
 * @param maxValueBytes the largest value ({@code max-value-bytes})
 * @param maxBatchBytes the most key and value bytes in one batch call ({@code max-batch-bytes})
 * @param threads router threads that run retries and complete futures
 */
public record RouterConfig(
    List<InetSocketAddress> pdAddresses,
    Duration timeout,
    Duration attemptTimeout,
    Duration backoffMin,
    Duration backoffMax,
    int scanPageSize,
    int maxKeyBytes,
    int maxValueBytes,
    int maxBatchBytes,
    int threads) {

  public static final int DEFAULT_MAX_KEY_BYTES = 8 * 1024;
  public static final int DEFAULT_MAX_VALUE_BYTES = 8 * 1024 * 1024;
  public static final int DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024;

  public RouterConfig {
    pdAddresses = pdAddresses == null ? List.of() : List.copyOf(pdAddresses);
  }

  /** The defaults: 10 s per call, 3 s per attempt, backoff 10 ms to 1 s, pages of 256. */
  public static RouterConfig defaults(List<InetSocketAddress> pdAddresses) {
    return new RouterConfig(pdAddresses, Duration.ofSeconds(10), Duration.ofSeconds(3),
        Duration.ofMillis(10), Duration.ofSeconds(1), 256, DEFAULT_MAX_KEY_BYTES,
        DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_BATCH_BYTES,
        Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors())));
  }

  /** Defaults without PD addresses, for a client built on a given PdClient. */
  public static RouterConfig defaults() {
    return defaults(List.of());
  }

  /**
   * Checks every setting.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException naming the first setting out of range
   */
  public RouterConfig validate() {
    checkDuration("timeout", timeout, 1, 3_600_000);
    checkDuration("attemptTimeout", attemptTimeout, 1, 3_600_000);
    checkDuration("backoffMin", backoffMin, 1, 60_000);
    checkDuration("backoffMax", backoffMax, backoffMin.toMillis(), 600_000);
    check("scanPageSize", scanPageSize, 1, 1 << 20);
    check("maxKeyBytes", maxKeyBytes, 1, 1 << 20);
    check("maxValueBytes", maxValueBytes, 1, 1 << 30);
    check("maxBatchBytes", maxBatchBytes, 1, 1 << 30);
    check("threads", threads, 1, 256);
    for (InetSocketAddress a : pdAddresses) {
      if (a == null) {
        throw new IllegalArgumentException("pdAddresses must not contain null, got " + pdAddresses);
      }
    }
    return this;
  }

  private static void checkDuration(String name, Duration value, long minMs, long maxMs) {
    if (value == null) {
      throw new IllegalArgumentException(name + " is required");
    }
    check(name + " (ms)", value.toMillis(), minMs, maxMs);
  }

  private static void check(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], got "
          + value);
    }
  }

  public RouterConfig withPdAddresses(List<InetSocketAddress> v) {
    return new RouterConfig(v, timeout, attemptTimeout, backoffMin, backoffMax, scanPageSize,
        maxKeyBytes, maxValueBytes, maxBatchBytes, threads);
  }

  public RouterConfig withTimeout(Duration v) {
    return new RouterConfig(pdAddresses, v, attemptTimeout, backoffMin, backoffMax, scanPageSize,
        maxKeyBytes, maxValueBytes, maxBatchBytes, threads);
  }

  public RouterConfig withAttemptTimeout(Duration v) {
    return new RouterConfig(pdAddresses, timeout, v, backoffMin, backoffMax, scanPageSize,
        maxKeyBytes, maxValueBytes, maxBatchBytes, threads);
  }

  public RouterConfig withBackoff(Duration min, Duration max) {
    return new RouterConfig(pdAddresses, timeout, attemptTimeout, min, max, scanPageSize,
        maxKeyBytes, maxValueBytes, maxBatchBytes, threads);
  }

  public RouterConfig withScanPageSize(int v) {
    return new RouterConfig(pdAddresses, timeout, attemptTimeout, backoffMin, backoffMax, v,
        maxKeyBytes, maxValueBytes, maxBatchBytes, threads);
  }

  public RouterConfig withLimits(int keyBytes, int valueBytes, int batchBytes) {
    return new RouterConfig(pdAddresses, timeout, attemptTimeout, backoffMin, backoffMax,
        scanPageSize, keyBytes, valueBytes, batchBytes, threads);
  }

  public RouterConfig withThreads(int v) {
    return new RouterConfig(pdAddresses, timeout, attemptTimeout, backoffMin, backoffMax,
        scanPageSize, maxKeyBytes, maxValueBytes, maxBatchBytes, v);
  }
}
