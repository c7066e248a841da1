package io.flotilla.bench.kv;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What one {@code bench kv} run does. Immutable; {@link #validate()} names the first bad setting
 * (by its option) and its allowed range.
 *
 * @param pd PD members, {@code host:port[,host:port...]}; null with {@code embedded}
 * @param embedded start PD and {@code stores} stores in this JVM instead of connecting to {@code pd}
 * @param stores stores of the embedded cluster
 * @param fsync whether the embedded stores sync their WAL on every batch
 * @param dir where the embedded cluster keeps its data; null for a temp dir deleted at the end
 * @param readRatio probability that an operation is a get (else a put)
 * @param valueBytes bytes of every value written
 * @param keys keys in the key space; operations pick one uniformly
 * @param concurrency operations in flight (closed loop)
 * @param duration how long the measurement runs
 * @param warmup how long the load runs before measuring
 * @param skipLoad do not write every key once before the run
 */
public record KvBenchSettings(
    String pd,
    boolean embedded,
    int stores,
    boolean fsync,
    Path dir,
    double readRatio,
    int valueBytes,
    long keys,
    int concurrency,
    Duration duration,
    Duration warmup,
    boolean skipLoad) {

  static final int MAX_STORES = 9;
  static final int MAX_VALUE_BYTES = 1 << 20;
  static final int MAX_CONCURRENCY = 100_000;

  public KvBenchSettings validate() {
    check(readRatio >= 0 && readRatio <= 1, "--read-ratio", "in [0, 1]", readRatio);
    check(valueBytes >= 1 && valueBytes <= MAX_VALUE_BYTES, "--value-size", "in [1, " + MAX_VALUE_BYTES + "] bytes",
        valueBytes);
    check(keys >= 1 && keys <= KeySpace.MAX_KEYS, "--keys", "in [1, " + KeySpace.MAX_KEYS + "]", keys);
    check(concurrency >= 1 && concurrency <= MAX_CONCURRENCY, "--concurrency", "in [1, " + MAX_CONCURRENCY + "]",
        concurrency);
    check(duration != null && duration.toMillis() >= 100, "--duration", "at least 100ms", duration);
    check(warmup != null && !warmup.isNegative(), "--warmup", "0s or more", warmup);
    check(stores >= 1 && stores <= MAX_STORES, "--stores", "in [1, " + MAX_STORES + "]", stores);
    return this;
  }

  private static void check(boolean ok, String option, String allowed, Object value) {
    if (!ok) {
      throw new IllegalArgumentException(option + " must be " + allowed + ", got " + value);
    }
  }
}
