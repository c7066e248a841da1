package io.flotilla.router;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;
import java.util.Random;
import java.util.function.Supplier;

/** A {@link FakeCluster} and a client on it, with short deadlines; and seeded-test helpers. */
final class Harness implements AutoCloseable {

  /** Replays one seed of every seeded test: -Dflotilla.router.seed=N. */
  static final String SEED_PROPERTY = "flotilla.router.seed";

  final FakeCluster cluster;
  final KvClient kv;

  Harness() {
    this(fastConfig());
  }

  Harness(RouterConfig config) {
    this.cluster = new FakeCluster();
    this.kv = new KvClient(config, cluster.pd, cluster);
  }

  static RouterConfig fastConfig() {
    return RouterConfig.defaults()
        .withTimeout(Duration.ofSeconds(10))
        .withAttemptTimeout(Duration.ofSeconds(1))
        .withBackoff(Duration.ofMillis(1), Duration.ofMillis(20))
        .withScanPageSize(7)
        .withThreads(2);
  }

  AsyncKvClient async() {
    return kv.async();
  }

  /** A byte map as a string map in its order, one char per byte, for comparisons. */
  static java.util.Map<String, String> strings(java.util.Map<byte[], byte[]> map) {
    java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
    map.forEach((k, v) -> out.put(new String(k, java.nio.charset.StandardCharsets.ISO_8859_1),
        new String(v, java.nio.charset.StandardCharsets.ISO_8859_1)));
    return out;
  }

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static String s(byte[] b) {
    return b == null ? null : new String(b, UTF_8);
  }

  /** A random key over a small alphabet that includes 0x00 and 0xff (unsigned order matters). */
  static byte[] randomKey(Random random) {
    byte[] alphabet = {0x00, 0x01, 'a', 'b', 'm', 'z', (byte) 0x7f, (byte) 0x80, (byte) 0xff};
    byte[] k = new byte[1 + random.nextInt(4)];
    for (int i = 0; i < k.length; i++) {
      k[i] = alphabet[random.nextInt(alphabet.length)];
    }
    return k;
  }

  /** The seeds a seeded test runs: the replay seed if given, else {@code count} fixed ones. */
  static long[] seeds(int count) {
    String replay = System.getProperty(SEED_PROPERTY);
    if (replay != null) {
      return new long[] {Long.parseLong(replay)};
    }
    long[] seeds = new long[count];
    for (int i = 0; i < count; i++) {
      seeds[i] = 0x5eed_0000L + i * 7919L;
    }
    return seeds;
  }

  /** Runs {@code body}, naming the seed (and how to replay it) in whatever it throws. */
  static void withSeed(long seed, Runnable body) {
    try {
      body.run();
    } catch (Throwable t) {
      AssertionError e = new AssertionError("failed with seed " + seed + " (replay: -D"
          + SEED_PROPERTY + "=" + seed + "): " + t, t);
      System.err.println(e.getMessage());
      throw e;
    }
  }

  static <T> T timed(Supplier<T> body, long[] elapsedMs) {
    long start = System.nanoTime();
    try {
      return body.get();
    } finally {
      elapsedMs[0] = (System.nanoTime() - start) / 1_000_000;
    }
  }

  @Override
  public void close() {
    kv.close();
    cluster.close();
  }
}
