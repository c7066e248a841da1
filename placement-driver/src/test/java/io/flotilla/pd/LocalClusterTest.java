package io.flotilla.pd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.client.PdClient;
import io.flotilla.region.server.StoreConfig;
import io.flotilla.router.CasResult;
import io.flotilla.router.KvClient;
import io.flotilla.router.KvEntry;
import io.flotilla.router.LimitExceededException;
import io.flotilla.router.RouterConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole cluster in one JVM through {@link LocalCluster}: PD, three stores and router clients,
 * with tiny split thresholds so a test-sized load splits many regions.
 */
class LocalClusterTest {
  private static final int KEYS = 100_000;

  @TempDir
  Path dir;

  private static StoreConfig smallRegions(StoreConfig c) {
    return c.withSplit(256 << 10, 4_000, Duration.ofMillis(200))
        .withHeartbeats(Duration.ofMillis(500), Duration.ofSeconds(1))
        .withStorage(c.storage().withFsync(false));
  }

  private LocalCluster start() {
    return LocalCluster.builder(dir).stores(3).storeConfig(LocalClusterTest::smallRegions).start();
  }

  private static String key(int i) {
    return String.format("key-%08d", i);
  }

  private static String value(int i) {
    return "value-" + i + "-" + "x".repeat(40);
  }

  @Test
  void loadSplitsRegionsScanSeesEveryAcknowledgedKeyOnceAndRestartKeepsThem() throws Exception {
    Map<String, Boolean> acked = new ConcurrentHashMap<>();
    try (LocalCluster cluster = start(); KvClient kv = cluster.newClient(); KvClient scanner = cluster.newClient()) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      long loadStart = System.nanoTime();
      int batch = 100;
      List<Future<?>> loads = new ArrayList<>();
      AtomicInteger next = new AtomicInteger();
      CountDownLatch aQuarterDone = new CountDownLatch(KEYS / 4 / batch);
      for (int t = 0; t < 4; t++) {
        loads.add(pool.submit(() -> {
          int b;
          // Keys are written in a scattered order, so splits happen all over the key space.
          while ((b = next.getAndIncrement()) < KEYS / batch) {
            Map<String, String> entries = new TreeMap<>();
            for (int j = 0; j < batch; j++) {
              int i = (int) ((long) (b * batch + j) * 7919 % KEYS);
              entries.put(key(i), value(i));
            }
            kv.batchPutStrings(entries);
            entries.keySet().forEach(k -> acked.put(k, true));
            aQuarterDone.countDown();
          }
          return null;
        }));
      }
      assertThat(aQuarterDone.await(120, TimeUnit.SECONDS)).isTrue();

      // A scan of the whole range while the load goes on (and regions split under it).
      List<String> before = new ArrayList<>(acked.keySet());
      List<String> scanned = new ArrayList<>();
      for (KvEntry e : scanner.scan(new byte[0], new byte[0], 0)) {
        scanned.add(e.keyUtf8());
      }
      for (Future<?> f : loads) {
        f.get(180, TimeUnit.SECONDS);
      }
      pool.shutdown();
      for (int i = 1; i < scanned.size(); i++) {
        assertThat(scanned.get(i)).as("scan order at %d", i).isGreaterThan(scanned.get(i - 1));
      }
      java.util.Set<String> missed = new java.util.HashSet<>(before);
      scanned.forEach(missed::remove); // NB: not containsAll, which scans the list once per expected key
      assertThat(missed).as("keys acknowledged before the scan that it did not return").isEmpty();

      long loadMs = (System.nanoTime() - loadStart) / 1_000_000;
      int regionCount;
      try (PdClient pd = cluster.newPdClient()) {
        regionCount = await().atMost(Duration.ofSeconds(30)).until(
            () -> pd.scanRegions(new byte[0], new byte[0], 0).get(5, TimeUnit.SECONDS).size(), n -> n >= 9);
      }
      assertThat(countAll(kv)).isEqualTo(KEYS);
      System.out.printf("loaded %d keys in %d ms (4 threads, batches of %d); %d regions after the load; "
          + "the scan during the load returned %d keys in order, all %d acknowledged before it%n",
          KEYS, loadMs, batch, regionCount, scanned.size(), before.size());
    }

    // The whole cluster stops and starts again on its directory: every key is there.
    try (LocalCluster cluster = start(); KvClient kv = cluster.newClient()) {
      List<KvEntry> all = kv.scanToList(new byte[0], new byte[0], 0);
      assertThat(all).hasSize(KEYS);
      for (int i = 0; i < KEYS; i += 997) {
        assertThat(kv.get(key(i))).isEqualTo(value(i));
      }
    }
  }

  private static int countAll(KvClient kv) {
    int n = 0;
    byte[] last = null;
    for (KvEntry e : kv.scan(new byte[0], new byte[0], 0)) {
      if (last != null) {
        assertThat(Arrays.compare(e.key(), last)).isPositive();
      }
      last = e.key();
      n++;
    }
    return n;
  }

  @Test
  void staleRegionCacheIsRepairedAfterSplits() throws Exception {
    try (LocalCluster cluster = start(); KvClient stale = cluster.newClient(); KvClient writer = cluster.newClient()) {
      stale.put("key-00000000", "first");
      assertThat(stale.get("key-00000000")).isEqualTo("first");
      // The other client's load splits the one region the stale client knows.
      for (int b = 0; b < 200; b++) {
        Map<String, String> entries = new TreeMap<>();
        for (int j = 0; j < 100; j++) {
          int i = b * 100 + j + 1;
          entries.put(key(i), value(i));
        }
        writer.batchPutStrings(entries);
      }
      try (PdClient pd = cluster.newPdClient()) {
        await().atMost(Duration.ofSeconds(30)).until(() ->
            pd.scanRegions(new byte[0], new byte[0], 0).get(5, TimeUnit.SECONDS).size() >= 3);
      }
      // Every key through the stale cache: EpochNotMatch answers carry the new regions.
      for (int i = 1; i <= 20_000; i += 501) {
        assertThat(stale.get(key(i))).isEqualTo(value(i));
      }
      stale.put(key(19_999), "rewritten");
      assertThat(writer.get(key(19_999))).isEqualTo("rewritten");
    }
  }

  @Test
  void oversizedKeysAndValuesAreRefusedWithTheLimitAndNothingIsWritten() {
    try (LocalCluster cluster = start(); KvClient kv = cluster.newClient();
         KvClient unchecked = cluster.newClient(c -> new RouterConfig(c.pdAddresses(), c.timeout(),
             c.attemptTimeout(), c.backoffMin(), c.backoffMax(), c.scanPageSize(), 1 << 20, 64 << 20, 64 << 20,
             c.threads()))) {
      byte[] bigKey = new byte[8 * 1024 + 1];
      Arrays.fill(bigKey, (byte) 'k');
      byte[] bigValue = new byte[8 * 1024 * 1024 + 1];
      assertThatThrownBy(() -> kv.put(bigKey, "v".getBytes(UTF_8)))
          .isInstanceOf(LimitExceededException.class).hasMessageContaining("8192");
      assertThatThrownBy(() -> kv.put("k".getBytes(UTF_8), bigValue))
          .isInstanceOf(LimitExceededException.class).hasMessageContaining("8388608");
      // The store enforces the same limits for a client that does not check them.
      assertThatThrownBy(() -> unchecked.put(bigKey, "v".getBytes(UTF_8)))
          .isInstanceOf(LimitExceededException.class).hasMessageContaining("max-key-bytes");
      assertThatThrownBy(() -> unchecked.put("k".getBytes(UTF_8), bigValue))
          .isInstanceOf(LimitExceededException.class).hasMessageContaining("max-value-bytes");
      assertThat(kv.get("k")).isNull();
      assertThat(kv.scanToList(new byte[0], new byte[0], 0)).isEmpty();
    }
  }

  @Test
  void compareAndSetFromManyClientsGrantsALockToExactlyOne() throws Exception {
    try (LocalCluster cluster = start()) {
      int clients = 8;
      List<KvClient> kvs = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        kvs.add(cluster.newClient());
      }
      try {
        kvs.get(0).put("warm-up", "1");
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<CasResult>> results = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
          KvClient c = kvs.get(i);
          String owner = "owner-" + i;
          results.add(pool.submit(() -> {
            go.await();
            return c.compareAndSet("lock", null, owner);
          }));
        }
        go.countDown();
        int granted = 0;
        String winner = null;
        for (int i = 0; i < clients; i++) {
          CasResult r = results.get(i).get(30, TimeUnit.SECONDS);
          if (r.succeeded()) {
            granted++;
            winner = "owner-" + i;
          }
        }
        pool.shutdown();
        assertThat(granted).isEqualTo(1);
        assertThat(kvs.get(3).get("lock")).isEqualTo(winner);
        // Release by the owner only.
        assertThat(kvs.get(0).compareAndSet("lock", "not-the-owner", null).succeeded()).isFalse();
        assertThat(kvs.get(0).compareAndSet("lock", winner, null).succeeded()).isTrue();
        assertThat(kvs.get(1).get("lock")).isNull();
      } finally {
        kvs.forEach(KvClient::close);
      }
    }
  }
}
