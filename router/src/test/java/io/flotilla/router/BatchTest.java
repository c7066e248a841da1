package io.flotilla.router;

import static io.flotilla.router.Harness.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.router.FakeCluster.Action;
import io.flotilla.router.FakeCluster.Received;
import io.flotilla.router.cache.Keys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Multi-key calls split by region, in parallel; compare-and-set; delete-range. */
class BatchTest {

  private Harness h = new Harness();

  @AfterEach
  void tearDown() {
    h.close();
  }

  static LongStream seeds() {
    return LongStream.of(Harness.seeds(6));
  }

  @Test
  void aBatchIsSentAsOneRequestPerRegion() {
    h.cluster.splitAt(b("d"), b("m"), b("t"));
    Map<byte[], byte[]> entries = new TreeMap<>(Keys.ORDER);
    for (char c = 'a'; c <= 'z'; c++) {
      entries.put(b("" + c), b("v" + c));
    }
    h.kv.batchPut(entries);

    List<Received> writes = h.cluster.received("kv.write");
    assertThat(writes).hasSize(4);
    assertThat(writes).extracting(r -> ((WriteRequest) r.request()).getSeq()).doesNotHaveDuplicates();
    List<byte[]> keys = new ArrayList<>(entries.keySet());
    keys.add(b("absent"));
    SortedMap<byte[], byte[]> found = h.kv.batchGet(keys);
    assertThat(Harness.strings(found)).containsExactlyEntriesOf(Harness.strings(entries));
    assertThat(found.get(b("q"))).isEqualTo(b("vq")); // looked up by content
    assertThat(h.cluster.received("kv.batch_get")).hasSize(4);
    assertThat(h.kv.batchGetStrings(List.of("a", "zz", "m"))).containsExactly(
        Map.entry("a", "va"), Map.entry("m", "vm"));
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void batchesSurviveSplitsThatPdHasNotSeen(long seed) {
    Harness.withSeed(seed, () -> {
      Random random = new Random(seed);
      TreeMap<byte[], byte[]> entries = ScanTest.randomData(random, 200);
      h.kv.batchPut(Map.of(b("warm"), b("up"))); // caches the single region
      h.cluster.setPdFollows(random.nextBoolean());
      for (int i = 0; i < 20; i++) {
        h.cluster.split(Harness.randomKey(random));
      }
      h.kv.batchPut(entries);
      entries.put(b("warm"), b("up"));
      assertThat(h.cluster.errorsAnswered(
          io.flotilla.engine.proto.KvError.KindCase.EPOCH_NOT_MATCH)).isPositive();
      assertThat(Harness.strings(h.cluster.data())).isEqualTo(Harness.strings(entries));

      for (int i = 0; i < 20; i++) {
        h.cluster.split(Harness.randomKey(random));
      }
      assertThat(Harness.strings(h.kv.batchGet(entries.keySet())))
          .isEqualTo(Harness.strings(entries));
    });
  }

  @Test
  void compareAndSetComparesWithTheCurrentValueOrAbsence() {
    CasResult taken = h.kv.compareAndSet("lock", null, "alice");
    assertThat(taken.succeeded()).isTrue();
    assertThat(taken.current()).isEqualTo(b("alice"));

    CasResult refused = h.kv.compareAndSet("lock", null, "bob");
    assertThat(refused.succeeded()).isFalse();
    assertThat(refused.current()).isEqualTo(b("alice"));

    assertThat(h.kv.compareAndSet("lock", "bob", null).succeeded()).isFalse();
    CasResult released = h.kv.compareAndSet("lock", "alice", null);
    assertThat(released.succeeded()).isTrue();
    assertThat(released.current()).isNull();
    assertThat(h.kv.get("lock")).isNull();

    CasResult onAbsent = h.kv.compareAndSet("lock", "alice", "bob");
    assertThat(onAbsent.succeeded()).isFalse();
    assertThat(onAbsent.current()).isNull();
  }

  @Test
  void deleteRangeClearsTheRangeAcrossRegionsAndNothingElse() {
    TreeMap<byte[], byte[]> data = new TreeMap<>(Keys.ORDER);
    for (int i = 0; i < 100; i++) {
      data.put(b(String.format("k%03d", i)), b("v"));
    }
    h.cluster.load(data);
    h.cluster.splitAt(b("k010"), b("k020"), b("k050"), b("k090"));
    h.kv.get("k000"); // warm a stale cache: split more behind PD's back
    h.cluster.setPdFollows(false);
    h.cluster.splitAt(b("k030"), b("k031"));

    h.kv.deleteRange("k015", "k095");

    data.subMap(b("k015"), b("k095")).clear();
    assertThat(Harness.strings(h.cluster.data())).isEqualTo(Harness.strings(data));
    h.kv.deleteRange((byte[]) null, null);
    assertThat(h.cluster.data()).isEmpty();
  }

  @Test
  void aBatchPutThatFailsAfterSomeRegionsWereWrittenIsOutcomeUnknown() {
    h.close();
    h = new Harness(Harness.fastConfig().withTimeout(Duration.ofMillis(1_000))
        .withAttemptTimeout(Duration.ofMillis(100)));
    h.cluster.splitAt(b("m"));
    long right = h.cluster.regionHolding(b("z")).getId();
    h.cluster.setInterceptor((store, method, r) -> method.equals("kv.write")
        && ((WriteRequest) r).getContext().getRegionId() == right
        ? Action.transportFails(new io.flotilla.engine.transport.ConnectionLostException(
            "store " + store, false, "connection refused"))
        : Action.SERVE);

    Map<byte[], byte[]> entries = new TreeMap<>(Keys.ORDER);
    entries.put(b("a"), b("1"));
    entries.put(b("z"), b("2"));
    assertThatThrownBy(() -> h.kv.batchPut(entries))
        .isInstanceOf(OutcomeUnknownException.class)
        .hasMessageContaining("1 of 2 region parts written");

    Map<byte[], byte[]> onlyRight = Map.of(b("y"), b("3"));
    assertThatThrownBy(() -> h.kv.batchPut(onlyRight))
        .isInstanceOf(RegionUnavailableException.class);
  }
}
