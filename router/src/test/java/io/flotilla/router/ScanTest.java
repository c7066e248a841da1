package io.flotilla.router;

import static io.flotilla.router.Harness.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.proto.KvError;
import io.flotilla.router.cache.Keys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scans cross regions page by page and return every key of the range once, in order, forward and
 * reverse, with limits, also while regions split between pages. Seeded: a failure names its seed,
 * and -Dflotilla.router.seed=N replays it.
 */
class ScanTest {

  private Harness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  static LongStream seeds() {
    return LongStream.of(Harness.seeds(12));
  }

  @Test
  void aScanAcrossManyRegionsReturnsEveryKeyOnceInOrder() {
    h = new Harness();
    TreeMap<byte[], byte[]> data = new TreeMap<>(Keys.ORDER);
    for (int i = 0; i < 300; i++) {
      data.put(b(String.format("k%04d", i)), b("v" + i));
    }
    h.cluster.load(data);
    for (int i = 10; i < 300; i += 10) {
      h.cluster.split(b(String.format("k%04d", i)));
    }

    assertThat(keys(h.kv.scan(b(""), b(""), 0))).containsExactlyElementsOf(keys(data));
    assertThat(keys(h.kv.reverseScan(b(""), b(""), 0)))
        .containsExactlyElementsOf(keys(data.descendingMap()));
    assertThat(keys(h.kv.scan("k0015", "k0042", 0)))
        .containsExactlyElementsOf(keys(data.subMap(b("k0015"), b("k0042"))));
    assertThat(keys(h.kv.reverseScan("k0015", "k0042", 5)))
        .containsExactly("k0041", "k0040", "k0039", "k0038", "k0037");
    assertThat(keys(h.kv.scan("k0015", "k0042", 12))).hasSize(12).first().isEqualTo("k0015");
    assertThat(keys(h.kv.scan("k0042", "k0015", 0))).isEmpty();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void randomRangesAndLimitsMatchASortedMap(long seed) {
    Harness.withSeed(seed, () -> {
      Random random = new Random(seed);
      h = new Harness(Harness.fastConfig().withScanPageSize(1 + random.nextInt(9)));
      TreeMap<byte[], byte[]> data = randomData(random, 50 + random.nextInt(200));
      h.cluster.load(data);
      int splits = random.nextInt(30);
      for (int i = 0; i < splits; i++) {
        h.cluster.split(Harness.randomKey(random));
      }
      for (int q = 0; q < 30; q++) {
        byte[] from = random.nextInt(5) == 0 ? Keys.EMPTY : Harness.randomKey(random);
        byte[] to = random.nextInt(5) == 0 ? Keys.EMPTY : Harness.randomKey(random);
        int limit = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(40);
        boolean reverse = random.nextBoolean();
        List<String> expected = expected(data, from, to, limit, reverse);
        List<String> actual = keys(reverse ? h.kv.reverseScan(from, to, limit)
            : h.kv.scan(from, to, limit));
        assertThat(actual).as("%s scan [%s, %s) limit %d", reverse ? "reverse" : "forward",
            Keys.describe(from), Keys.describe(to), limit).containsExactlyElementsOf(expected);
      }
    });
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void regionsSplittingBetweenPagesStillYieldEachKeyExactlyOnce(long seed) {
    Harness.withSeed(seed, () -> {
      Random random = new Random(seed);
      h = new Harness(Harness.fastConfig().withScanPageSize(1 + random.nextInt(5)));
      TreeMap<byte[], byte[]> data = randomData(random, 100 + random.nextInt(100));
      h.cluster.load(data);
      h.cluster.setPdFollows(random.nextBoolean());
      Random splitter = new Random(seed ^ 0x5A11L);
      // After every served page, split somewhere: often inside the range being scanned.
      h.cluster.setAfterScan(() -> {
        if (splitter.nextInt(3) != 0) {
          h.cluster.split(Harness.randomKey(splitter));
        }
      });
      for (boolean reverse : new boolean[] {false, true, false, true}) {
        int limit = random.nextBoolean() ? 0 : 1 + random.nextInt(data.size());
        List<String> actual = keys(reverse ? h.kv.reverseScan(Keys.EMPTY, Keys.EMPTY, limit)
            : h.kv.scan(Keys.EMPTY, Keys.EMPTY, limit));
        assertThat(actual).as("%s scan, limit %d, %d regions now", reverse ? "reverse"
                : "forward", limit, h.cluster.regions().size())
            .containsExactlyElementsOf(expected(data, Keys.EMPTY, Keys.EMPTY, limit, reverse));
      }
      assertThat(h.cluster.regions().size()).isGreaterThan(10);
      assertThat(h.cluster.errorsAnswered(KvError.KindCase.EPOCH_NOT_MATCH)).isPositive();
      assertThat(h.cluster.errorsAnswered(KvError.KindCase.KEY_NOT_IN_REGION)).isZero();
    });
  }

  @Test
  void anAsyncScanHandsOutPagesAndThenAnEmptyOne() throws Exception {
    h = new Harness();
    TreeMap<byte[], byte[]> data = randomData(new Random(7), 40);
    h.cluster.load(data);
    h.cluster.splitAt(b("a"), b("m"));
    AsyncScanner scanner = h.async().scan(null, null, 0);
    List<String> all = new ArrayList<>();
    List<KvEntry> page;
    while (!(page = scanner.nextPage().get()).isEmpty()) {
      assertThat(page.size()).isLessThanOrEqualTo(h.async().config().scanPageSize());
      page.forEach(e -> all.add(name(e.key())));
    }
    assertThat(scanner.isDone()).isTrue();
    assertThat(all).containsExactlyElementsOf(keys(data));
    assertThat(h.async().scan(null, null, 5).toList().get()).hasSize(5);
  }

  static TreeMap<byte[], byte[]> randomData(Random random, int n) {
    TreeMap<byte[], byte[]> data = new TreeMap<>(Keys.ORDER);
    while (data.size() < n) {
      data.put(Harness.randomKey(random), b("v" + data.size()));
    }
    return data;
  }

  static List<String> expected(NavigableMap<byte[], byte[]> data, byte[] from, byte[] to,
      int limit, boolean reverse) {
    NavigableMap<byte[], byte[]> range;
    if (to.length != 0 && Keys.compare(from, to) >= 0) {
      range = new TreeMap<>(Keys.ORDER);
    } else {
      range = to.length == 0 ? data.tailMap(from, true) : data.subMap(from, true, to, false);
    }
    List<String> keys = keys(reverse ? range.descendingMap() : range);
    return limit > 0 && keys.size() > limit ? keys.subList(0, limit) : keys;
  }

  static List<String> keys(Map<byte[], byte[]> map) {
    return map.keySet().stream().map(ScanTest::name).toList();
  }

  static List<String> keys(Iterable<KvEntry> entries) {
    List<String> out = new ArrayList<>();
    for (KvEntry e : entries) {
      out.add(name(e.key()));
    }
    return out;
  }

  /** One char per byte: equal names are equal keys. */
  static String name(byte[] key) {
    return new String(key, java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
