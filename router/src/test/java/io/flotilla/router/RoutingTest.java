package io.flotilla.router;

import static io.flotilla.router.Harness.b;
import static io.flotilla.router.Harness.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.proto.GetRequest;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Region;
import io.flotilla.router.FakeCluster.Received;
import io.flotilla.router.cache.Keys;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Requests reach the leader of the region holding their key; the cache is repaired from errors. */
class RoutingTest {

  private final Harness h = new Harness();

  @AfterEach
  void tearDown() {
    h.close();
  }

  @Test
  void everyKeyIsRoutedToTheRegionHoldingIt() {
    for (char c = 'b'; c <= 'y'; c += 2) {
      h.cluster.split(b(String.valueOf(c)));
    }
    Random random = new Random(42);
    TreeMap<byte[], byte[]> expected = new TreeMap<>(Keys.ORDER);
    for (int i = 0; i < 500; i++) {
      byte[] key = Harness.randomKey(random);
      byte[] value = b("v" + i);
      h.kv.put(key, value);
      expected.put(key, value);
    }
    expected.forEach((k, v) -> assertThat(h.kv.get(k)).isEqualTo(v));
    assertThat(Harness.strings(h.cluster.data())).containsExactlyEntriesOf(
        Harness.strings(expected));
    for (Received r : h.cluster.received("kv.get")) {
      GetRequest get = (GetRequest) r.request();
      Region holder = h.cluster.regionHolding(get.getKey().toByteArray());
      assertThat(get.getContext().getRegionId()).isEqualTo(holder.getId());
      assertThat(r.storeId()).isEqualTo(h.cluster.leaderOf(holder.getId()));
    }
  }

  @Test
  void afterWarmUpTheCacheAnswersWithoutAskingPd() {
    for (char c = 'b'; c <= 'y'; c++) {
      h.cluster.split(b(String.valueOf(c)));
    }
    for (char c = 'a'; c <= 'z'; c++) {
      h.kv.put(String.valueOf(c), "warm");
    }
    int pdCallsAfterWarmUp = h.cluster.pd.regionCalls.get();
    int storeCallsAfterWarmUp = h.cluster.pd.storeCalls.get();
    assertThat(pdCallsAfterWarmUp).isEqualTo(h.cluster.regions().size());

    for (int round = 0; round < 20; round++) {
      for (char c = 'a'; c <= 'z'; c++) {
        assertThat(h.kv.get(c + "")).isEqualTo("warm");
        h.kv.put(c + "x" + round, "v");
      }
    }
    assertThat(h.cluster.pd.regionCalls.get()).isEqualTo(pdCallsAfterWarmUp);
    assertThat(h.cluster.pd.storeCalls.get()).isEqualTo(storeCallsAfterWarmUp);
  }

  @Test
  void aNotLeaderHintIsFollowed() {
    h.kv.put("k", "v1");
    h.cluster.setPdFollows(false);
    h.cluster.transferLeader(1, 3);
    int pdCalls = h.cluster.pd.regionCalls.get();
    h.cluster.received.clear();

    h.kv.put("k", "v2");

    List<Received> writes = h.cluster.received("kv.write");
    assertThat(writes).extracting(Received::storeId).containsExactly(1L, 3L);
    assertThat(h.cluster.pd.regionCalls.get()).isEqualTo(pdCalls);
    assertThat(h.kv.get("k")).isEqualTo("v2");
    assertThat(h.cluster.received).last().extracting(Received::storeId).isEqualTo(3L);
  }

  @Test
  void withoutAHintTheNextPeerIsTried() {
    h.kv.put("k", "v1");
    h.cluster.setPdFollows(false);
    h.cluster.setHideLeaderHints(true);
    h.cluster.transferLeader(1, 3);
    h.cluster.received.clear();

    assertThat(h.kv.get("k")).isEqualTo("v1");

    assertThat(h.cluster.received("kv.get")).extracting(Received::storeId)
        .containsExactly(1L, 2L, 3L);
  }

  @Test
  void epochNotMatchAfterASplitRepairsTheCacheWithoutPd() {
    h.kv.put("a", "1");
    h.kv.put("q", "2");
    h.cluster.setPdFollows(false); // PD has not heard of the split: only the store can tell
    Region right = h.cluster.split(b("m"));
    int pdCalls = h.cluster.pd.regionCalls.get();
    h.cluster.received.clear();

    h.kv.put("q", "3");
    assertThat(h.kv.get("q")).isEqualTo("3");
    assertThat(h.kv.get("a")).isEqualTo("1");

    List<Received> writes = h.cluster.received("kv.write");
    assertThat(writes).hasSize(2); // EpochNotMatch, then the new right half
    assertThat(((io.flotilla.engine.proto.WriteRequest) writes.get(1).request()).getContext()
        .getRegionId()).isEqualTo(right.getId());
    assertThat(h.cluster.pd.regionCalls.get()).isEqualTo(pdCalls);
    assertThat(h.cluster.errorsAnswered(KvError.KindCase.EPOCH_NOT_MATCH)).isEqualTo(1);
    assertThat(h.async().context().cache().regions()).extracting(r -> r.id())
        .containsExactly(1L, right.getId());
  }

  @Test
  void aRegionTheStoreNoLongerHasIsReloadedFromPd() {
    h.kv.put("k", "v");
    h.cluster.setPdFollows(false);
    h.cluster.split(b("a"));
    Region right = h.cluster.split(b("j"));
    h.cluster.syncPd();
    // The client still believes region 1 covers everything; a request for "k" to region 1 now
    // fails KeyNotInRegion or EpochNotMatch, and either way the answer comes from the right region.
    assertThat(h.kv.get("k")).isEqualTo("v");
    assertThat(h.async().context().cache().find(b("k")).id()).isEqualTo(right.getId());
  }

  @Test
  void aStaleAnswerFromPdDoesNotReplaceANewerRegion() {
    h.kv.put("a", "1");
    h.cluster.setPdFollows(false);
    h.cluster.split(b("m"));
    h.kv.put("a", "2"); // learns region 1 is now [, m) at version 2 from the store
    long version = h.async().context().cache().byId(1).epoch().getVersion();
    h.async().context().cache().invalidate(h.cluster.regionHolding(b("q")).getId());

    assertThat(s(h.kv.get(b("q")))).isNull(); // PD still says region 1 holds "q" (version 1)

    assertThat(h.async().context().cache().byId(1).epoch().getVersion()).isEqualTo(version);
  }
}
