package io.flotilla.router;

import static io.flotilla.router.Harness.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.proto.KvError;
import io.flotilla.router.cache.Keys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One client shared by many threads, against a store that keeps only the last seq per client. */
class ConcurrencyTest {

  private static final int THREADS = 8;
  private static final int WRITES_PER_THREAD = 150;

  private final Harness h = new Harness();
  private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    pool.awaitTermination(5, TimeUnit.SECONDS);
    h.close();
  }

  @Test
  void concurrentWritesOfOneClientAllApplyWhileRegionsSplit() throws Exception {
    h.cluster.splitAt(b("t3"), b("t6"));
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      futures.add(pool.submit(() -> {
        for (int i = 0; i < WRITES_PER_THREAD; i++) {
          h.kv.put("t" + thread + "-" + i, "v" + i);
          if (thread == 0 && i % 50 == 25) {
            h.cluster.split(b("t" + (i % 8) + "-" + i));
          }
        }
        return null;
      }));
    }
    for (Future<?> f : futures) {
      f.get(30, TimeUnit.SECONDS);
    }

    Map<byte[], byte[]> expected = new TreeMap<>(Keys.ORDER);
    for (int t = 0; t < THREADS; t++) {
      for (int i = 0; i < WRITES_PER_THREAD; i++) {
        expected.put(b("t" + t + "-" + i), b("v" + i));
      }
    }
    assertThat(Harness.strings(h.cluster.data())).isEqualTo(Harness.strings(expected));
    assertThat(h.cluster.applies()).isEqualTo((long) THREADS * WRITES_PER_THREAD);
    System.out.println("stale-sequence refusals re-sent under a new seq: "
        + h.cluster.errorsAnswered(KvError.KindCase.STALE_SEQUENCE));
  }
}
