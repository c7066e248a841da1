package io.flotilla.pd.server;

import static io.flotilla.pd.server.PdFixtures.client;
import static io.flotilla.pd.server.PdFixtures.errorOf;
import static io.flotilla.pd.server.PdFixtures.fastSingle;
import static io.flotilla.pd.server.PdFixtures.get;
import static io.flotilla.pd.server.PdFixtures.key;
import static io.flotilla.pd.server.PdFixtures.peer;
import static io.flotilla.pd.server.PdFixtures.region;
import static io.flotilla.pd.server.PdFixtures.store;
import static io.flotilla.pd.server.PdFixtures.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A one-member PD over real Netty and RocksDB, driven through {@link RemotePdClient}. */
class PdSingleMemberTest {
  @TempDir Path dir;
  PdServer pd;
  RemotePdClient client;

  @BeforeEach
  void start() {
    pd = PdServer.start(fastSingle(dir.resolve("pd")).withIdBatchSize(10).withMaxStoreDownTimeMs(1_000));
    client = client(List.of(pd.address()));
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (pd != null) {
      pd.close();
    }
  }

  @Test
  void bootstrapsOnceAndRefusesASecondBootstrap() {
    assertThat(get(client.isBootstrapped())).isFalse();
    assertThat(client.clusterId()).isNotZero().isEqualTo(pd.clusterId());
    // Refused: the first region must cover the whole key space.
    assertThat(errorOf(client.bootstrap(store(1, "127.0.0.1:7001"), region(2, "a", "", 1, 1, peer(3, 1)))))
        .isEqualTo(PdErrorType.PD_ERROR_INVALID_ARGUMENT);
    // Refused: a peer on a store PD does not know.
    assertThat(errorOf(client.bootstrap(store(1, "127.0.0.1:7001"),
        region(2, "", "", 1, 1, peer(3, 1), peer(4, 9)))))
        .isEqualTo(PdErrorType.PD_ERROR_INVALID_ARGUMENT);
    assertThat(get(client.isBootstrapped())).isFalse();

    get(client.bootstrap(store(1, "127.0.0.1:7001"), region(2, "", "", 1, 1, peer(3, 1))));

    assertThat(get(client.isBootstrapped())).isTrue();
    assertThat(errorOf(client.bootstrap(store(5, "127.0.0.1:7005"), region(6, "", "", 1, 1, peer(7, 5)))))
        .isEqualTo(PdErrorType.PD_ERROR_ALREADY_BOOTSTRAPPED);
    assertThat(get(client.getStore(1)).getStore().getAddress()).isEqualTo("127.0.0.1:7001");
    assertThat(errorOf(client.getStore(5))).isEqualTo(PdErrorType.PD_ERROR_STORE_NOT_FOUND);
    RegionInfo first = get(client.getRegion(key("anything"))).orElseThrow();
    assertThat(first.getRegion().getId()).isEqualTo(2);
    assertThat(first.getRegion().getPeersList()).containsExactly(peer(3, 1));
  }

  @Test
  void storesArePutAndRead() {
    get(client.putStore(store(1, "127.0.0.1:7001")));
    get(client.putStore(store(2, "127.0.0.1:7002").toBuilder().putLabels("zone", "z2").build()));
    assertThat(client.clusterId()).isEqualTo(pd.clusterId());

    StoreInfo one = get(client.getStore(1));
    assertThat(one.getStore().getAddress()).isEqualTo("127.0.0.1:7001");
    assertThat(one.getStore().getState()).isEqualTo(StoreState.STORE_STATE_UP);
    assertThat(one.getLastHeartbeatMs()).isZero();
    assertThat(get(client.getStore(2)).getStore().getLabelsMap()).containsEntry("zone", "z2");
    assertThat(get(client.getStores(false))).extracting(s -> s.getStore().getId()).containsExactly(1L, 2L);
    // A second store may not take an address in use; an unknown store is not found.
    assertThat(errorOf(client.putStore(store(3, "127.0.0.1:7001")))).isEqualTo(PdErrorType.PD_ERROR_INVALID_ARGUMENT);
    assertThat(errorOf(client.getStore(3))).isEqualTo(PdErrorType.PD_ERROR_STORE_NOT_FOUND);
    // Re-registering moves the address.
    get(client.putStore(store(2, "127.0.0.1:7102")));
    assertThat(get(client.getStore(2)).getStore().getAddress()).isEqualTo("127.0.0.1:7102");

    // Heartbeats: kept by the leader; a store that stops sending them is down after maxStoreDownTime.
    StoreStats stats = StoreStats.newBuilder().setStoreId(1).setRegionCount(4).setCapacityBytes(1 << 30).build();
    long before = System.currentTimeMillis();
    get(client.storeHeartbeat(stats));
    StoreInfo beating = get(client.getStore(1));
    assertThat(beating.getStats()).isEqualTo(stats);
    assertThat(beating.getLastHeartbeatMs()).isBetween(before, System.currentTimeMillis());
    assertThat(beating.getDown()).isFalse();
    assertThat(errorOf(client.storeHeartbeat(StoreStats.newBuilder().setStoreId(42).build())))
        .isEqualTo(PdErrorType.PD_ERROR_STORE_NOT_FOUND);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> get(client.getStore(1)).getDown());
  }

  @Test
  void regionsByKeyByIdAndScanned() {
    bootstrapWholeRange();
    get(client.reportSplit(region(20, "", "m", 2, 1, peer(21, 1)), region(10, "m", "", 2, 1, peer(11, 1))));
    get(client.reportSplit(region(30, "m", "t", 3, 1, peer(31, 1)), region(10, "t", "", 3, 1, peer(11, 1))));

    assertThat(regionAt("a")).isEqualTo(20);
    assertThat(regionAt("")).isEqualTo(20);
    assertThat(regionAt("m")).isEqualTo(30);
    assertThat(regionAt("s\u00ff")).isEqualTo(30);
    assertThat(regionAt("t")).isEqualTo(10);
    assertThat(regionAt("zzz")).isEqualTo(10);
    Region ten = get(client.getRegionById(10)).orElseThrow().getRegion();
    assertThat(str(ten.getStartKey())).isEqualTo("t");
    assertThat(ten.getEpoch().getVersion()).isEqualTo(3);
    assertThat(get(client.getRegionById(999))).isEmpty();

    assertThat(scan("", "", 0)).containsExactly(20L, 30L, 10L);
    assertThat(scan("", "", 2)).containsExactly(20L, 30L);
    assertThat(scan("", "", 1)).containsExactly(20L);
    assertThat(scan("n", "u", 0)).containsExactly(30L, 10L);
    assertThat(scan("b", "c", 0)).containsExactly(20L);
    assertThat(scan("m", "t", 0)).containsExactly(30L); // end is exclusive: region 10 starts at "t"
    assertThat(scan("l", "", 2)).containsExactly(20L, 30L);
    assertThat(scan("u", "", 5)).containsExactly(10L);
  }

  @Test
  void staleReportsAreIgnoredAndNewerOnesTaken() {
    bootstrapWholeRange();
    // Newer conf_ver with a new peer and a leader: taken.
    heartbeat(region(10, "", "", 1, 2, peer(11, 1), peer(12, 2)), 11, 5);
    RegionInfo r = get(client.getRegionById(10)).orElseThrow();
    assertThat(r.getRegion().getPeersCount()).isEqualTo(2);
    assertThat(r.getLeader().getId()).isEqualTo(11);
    // Older conf_ver: ignored.
    heartbeat(region(10, "", "", 1, 1, peer(11, 1)), 11, 5);
    assertThat(get(client.getRegionById(10)).orElseThrow().getRegion().getPeersCount()).isEqualTo(2);

    // A split replaces the parent with both halves.
    get(client.reportSplit(region(20, "", "m", 2, 2, peer(21, 1), peer(22, 2)),
        region(10, "m", "", 2, 2, peer(11, 1), peer(12, 2))));
    assertThat(regionAt("a")).isEqualTo(20);
    assertThat(str(get(client.getRegionById(10)).orElseThrow().getRegion().getStartKey())).isEqualTo("m");
    assertThat(get(client.getRegionById(10)).orElseThrow().getLeader().getId())
        .as("a split keeps the leader PD knew").isEqualTo(11);

    // Older version (newer conf_ver) of the parent's whole range: ignored.
    heartbeat(region(10, "", "", 1, 3, peer(11, 1), peer(12, 2), peer(13, 3)), 11, 5);
    assertThat(regionAt("a")).isEqualTo(20);
    assertThat(get(client.getRegionById(10)).orElseThrow().getRegion().getPeersCount()).isEqualTo(2);
    // A stale split report (older versions than held): ignored.
    get(client.reportSplit(region(40, "", "f", 1, 2, peer(41, 1)), region(20, "f", "m", 1, 2, peer(21, 1))));
    assertThat(regionAt("a")).isEqualTo(20);
    assertThat(get(client.getRegionById(40))).isEmpty();
    // A region unknown to PD overlapping a newer one: ignored.
    heartbeat(region(50, "a", "c", 1, 1, peer(51, 1)), 51, 1);
    assertThat(get(client.getRegionById(50))).isEmpty();

    // Same version, newer conf_ver: taken.
    heartbeat(region(10, "m", "", 2, 3, peer(11, 1), peer(12, 2), peer(13, 3)), 12, 6);
    RegionInfo ten = get(client.getRegionById(10)).orElseThrow();
    assertThat(ten.getRegion().getPeersCount()).isEqualTo(3);
    assertThat(ten.getLeader().getId()).isEqualTo(12);
    // A deposed leader's late heartbeat (older term) does not move the leader back.
    heartbeat(region(10, "m", "", 2, 3, peer(11, 1), peer(12, 2), peer(13, 3)), 11, 5);
    assertThat(get(client.getRegionById(10)).orElseThrow().getLeader().getId()).isEqualTo(12);
  }

  @Test
  void regionHeartbeatSizesStayInTheLeadersMemory() {
    bootstrapWholeRange();
    get(client.regionHeartbeat(RegionHeartbeatRequest.newBuilder()
        .setRegion(region(10, "", "", 1, 1, peer(11, 1))).setLeader(peer(11, 1)).setTerm(2)
        .setApproximateSize(12_345).setApproximateKeys(67).build()));
    RegionInfo r = get(client.getRegionById(10)).orElseThrow();
    assertThat(r.getApproximateSize()).isEqualTo(12_345);
    assertThat(r.getApproximateKeys()).isEqualTo(67);
    assertThat(r.getLeader().getId()).isEqualTo(11);
    // A leader that is not a peer is refused.
    assertThat(errorOf(client.regionHeartbeat(RegionHeartbeatRequest.newBuilder()
        .setRegion(region(10, "", "", 1, 1, peer(11, 1))).setLeader(peer(99, 1)).build())))
        .isEqualTo(PdErrorType.PD_ERROR_INVALID_ARGUMENT);
  }

  @Test
  void askSplitHandsOutFreshIds() {
    bootstrapWholeRange();
    var answer = get(client.askSplit(region(10, "", "", 1, 1, peer(11, 1), peer(12, 2))));
    assertThat(answer.getNewPeerIdsList()).hasSize(2);
    var again = get(client.askSplit(region(10, "", "", 1, 1, peer(11, 1), peer(12, 2))));
    Set<Long> ids = new HashSet<>(answer.getNewPeerIdsList());
    ids.add(answer.getNewRegionId());
    ids.addAll(again.getNewPeerIdsList());
    ids.add(again.getNewRegionId());
    assertThat(ids).hasSize(6).doesNotContain(0L);
    assertThat(get(client.allocId())).isNotIn(ids);
    assertThat(errorOf(client.askSplit(region(77, "", "", 1, 1, peer(78, 1)))))
        .isEqualTo(PdErrorType.PD_ERROR_REGION_NOT_FOUND);
  }

  @Test
  void idsAreUniqueAcrossARestart() {
    get(client.putStore(store(1, "127.0.0.1:7001")));
    long clusterId = pd.clusterId();
    List<Long> before = allocate(client);
    assertThat(new HashSet<>(before)).hasSameSizeAs(before);

    client.close();
    pd.close();
    pd = PdServer.start(fastSingle(dir.resolve("pd")).withIdBatchSize(10));
    client = client(List.of(pd.address()));

    List<Long> after = allocate(client);
    assertThat(new HashSet<>(after)).hasSameSizeAs(after);
    assertThat(after.stream().mapToLong(Long::longValue).min().orElseThrow())
        .as("a restarted PD starts above every id it ever reserved")
        .isGreaterThan(before.stream().mapToLong(Long::longValue).max().orElseThrow());
    assertThat(pd.clusterId()).isEqualTo(clusterId);
    assertThat(get(client.getStore(1)).getStore().getAddress()).isEqualTo("127.0.0.1:7001");
  }

  /** 25 single ids and 3 runs of 7, concurrently; every id handed out, in a list. */
  static List<Long> allocate(RemotePdClient client) {
    List<java.util.concurrent.CompletableFuture<Long>> singles = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      singles.add(client.allocId());
    }
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long first = get(client.allocIds(7));
      for (int j = 0; j < 7; j++) {
        ids.add(first + j);
      }
    }
    singles.forEach(f -> ids.add(get(f)));
    return ids;
  }

  private void bootstrapWholeRange() {
    get(client.putStore(store(2, "127.0.0.1:7002")));
    get(client.bootstrap(store(1, "127.0.0.1:7001"), region(10, "", "", 1, 1, peer(11, 1))));
  }

  private void heartbeat(Region region, long leaderPeer, long term) {
    var leader = region.getPeersList().stream().filter(p -> p.getId() == leaderPeer).findFirst().orElseThrow();
    get(client.regionHeartbeat(RegionHeartbeatRequest.newBuilder()
        .setRegion(region).setLeader(leader).setTerm(term).build()));
  }

  private long regionAt(String k) {
    return get(client.getRegion(key(k))).orElseThrow().getRegion().getId();
  }

  private List<Long> scan(String start, String end, int limit) {
    return get(client.scanRegions(key(start), key(end), limit)).stream().map(r -> r.getRegion().getId()).toList();
  }
}
