package io.flotilla.pd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.AddOperatorRequest;
import io.flotilla.engine.proto.AddOperatorResponse;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.SetStoreStateRequest;
import io.flotilla.engine.proto.SetStoreStateResponse;
import io.flotilla.engine.proto.SetSchedulerRequest;
import io.flotilla.engine.proto.SetSchedulerResponse;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.client.PdMethods;
import io.flotilla.region.server.Store;
import io.flotilla.region.server.StoreConfig;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.router.KvClient;
import io.flotilla.router.KvEntry;
import io.flotilla.router.KvException;
import io.flotilla.router.OutcomeUnknownException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Placement on a whole cluster in one JVM: PD's schedulers and operators, stores carrying out the
 * steps, the router carrying on. Writes run throughout each test; at the end every acknowledged
 * write is read back exactly once.
 */
class PlacementEndToEndTest {
  @TempDir
  Path dir;

  private static StoreConfig fast(StoreConfig c, long splitKeys) {
    return c.withSplit(64L << 20, splitKeys, Duration.ofMillis(100))
        .withHeartbeats(Duration.ofMillis(200), Duration.ofMillis(300))
        .withStorage(c.storage().withFsync(false));
  }

  private LocalCluster start(int stores, long splitKeys) {
    return LocalCluster.builder(dir).stores(stores).storeConfig(c -> fast(c, splitKeys))
        .pdConfig(c -> c.withScheduleIntervalMs(200).withMaxStoreDownTimeMs(2_000)).start();
  }

  /** Writes new keys until stopped; remembers what was acknowledged and what is unknown. */
  private static final class Writer implements AutoCloseable {
    final Set<String> acked = ConcurrentHashMap.newKeySet();
    final Set<String> unknown = ConcurrentHashMap.newKeySet();
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final Thread thread;

    Writer(KvClient kv, String prefix) {
      thread = new Thread(() -> {
        for (int i = 0; !stop.get(); i++) {
          String k = prefix + String.format("%07d", i);
          try {
            kv.put(k, "v" + i);
            acked.add(k);
          } catch (OutcomeUnknownException e) {
            unknown.add(k);
          } catch (KvException e) {
            failure.compareAndSet(null, e);
            return;
          }
        }
      }, "test-writer");
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      thread.join(30_000);
    }

    /** Every acknowledged key once; anything extra is an unknown outcome. */
    void check(KvClient kv, String prefix) {
      assertThat(failure.get()).as("writes failed").isNull();
      Set<String> seen = new HashSet<>();
      byte[] from = prefix.getBytes(StandardCharsets.UTF_8);
      byte[] to = (prefix + "~").getBytes(StandardCharsets.UTF_8);
      for (KvEntry e : kv.scan(from, to, 0)) {
        assertThat(seen.add(e.keyUtf8())).as("key %s once", e.keyUtf8()).isTrue();
      }
      // NB: set differences, not AssertJ's containsAll: that scans the whole actual set for each
      // expected key (O(n * m): over five minutes of one core for the ~150,000 keys of a slow run).
      Set<String> missing = new HashSet<>(acked);
      missing.removeAll(seen);
      assertThat(missing).as("acknowledged keys missing").isEmpty();
      Set<String> extra = new HashSet<>(seen);
      extra.removeAll(acked);
      extra.removeAll(unknown);
      assertThat(extra).as("keys present that were neither acknowledged nor of unknown outcome").isEmpty();
    }
  }

  private static void load(KvClient kv, int keys) {
    for (int b = 0; b < keys / 100; b++) {
      Map<String, String> batch = new TreeMap<>();
      for (int j = 0; j < 100; j++) {
        int i = b * 100 + j;
        batch.put(String.format("load-%07d", i), "x".repeat(100));
      }
      kv.batchPutStrings(batch);
    }
  }

  private static List<RegionInfo> regions(RemotePdClient pd) throws Exception {
    return pd.scanRegions(new byte[0], new byte[0], 0).get(10, TimeUnit.SECONDS);
  }

  private static List<StoreInfo> stores(RemotePdClient pd) throws Exception {
    return pd.getStores(false).get(10, TimeUnit.SECONDS);
  }

  private static long voters(RegionInfo r) {
    return r.getRegion().getPeersList().stream().filter(p -> p.getRole() != PeerRole.PEER_ROLE_LEARNER).count();
  }

  private static boolean settled(List<RegionInfo> regions, int replicas) {
    return regions.stream().allMatch(r -> r.getRegion().getPeersCount() == replicas
        && r.getRegion().getPeersList().stream().allMatch(p -> p.getRole() == PeerRole.PEER_ROLE_VOTER));
  }

  private static RemotePdClient pd(LocalCluster c) {
    return (RemotePdClient) c.newPdClient();
  }

  @Test
  void aNewStoreGetsItsShareOfRegionsAndLeadersWhileWritesGoOn() throws Exception {
    try (LocalCluster cluster = start(3, 400); KvClient kv = cluster.newClient(); RemotePdClient pd = pd(cluster)) {
      load(kv, 24_000);
      int regionCount = await().atMost(Duration.ofSeconds(60)).until(() -> regions(pd).size(), n -> n >= 64);
      long t0;
      long bytesBefore;
      double writesPerSecBefore;
      double writesPerSecDuring;
      Writer w = new Writer(kv, "w-");
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> w.acked.size() >= 100);
        long a0 = w.acked.size();
        long s0 = System.nanoTime();
        // The rate before the move: the time the writer takes for its next 2,000 writes.
        await().atMost(Duration.ofSeconds(60)).until(() -> w.acked.size() >= a0 + 2_000);
        writesPerSecBefore = (w.acked.size() - a0) * 1e9 / (System.nanoTime() - s0);
        bytesBefore = snapshotBytes(cluster);
        long a1 = w.acked.size();
        t0 = System.nanoTime();
        Store added = cluster.addStore();
        long newStore = added.storeId();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
          List<StoreInfo> ss = stores(pd);
          IntSummaryStatistics regionsPerStore = ss.stream().mapToInt(s -> s.getStats().getRegionCount())
              .summaryStatistics();
          IntSummaryStatistics leadersPerStore = ss.stream().mapToInt(s -> s.getStats().getLeaderCount())
              .summaryStatistics();
          assertThat(ss).hasSize(4);
          assertThat(ss.stream().filter(s -> s.getStore().getId() == newStore).findFirst().orElseThrow()
              .getStats().getRegionCount()).isPositive();
          double avg = regionsPerStore.getAverage();
          assertThat(regionsPerStore.getMax() - regionsPerStore.getMin())
              .as("regions per store %s", regionsPerStore).isLessThanOrEqualTo((int) Math.max(2, 0.1 * avg));
          assertThat(leadersPerStore.getMax() - leadersPerStore.getMin())
              .as("leaders per store %s", leadersPerStore)
              .isLessThanOrEqualTo((int) Math.max(2, 0.1 * leadersPerStore.getAverage()));
          assertThat(settled(regions(pd), 3)).isTrue();
        });
        writesPerSecDuring = (w.acked.size() - a1) * 1e9 / (System.nanoTime() - t0);
      } finally {
        w.close();
      }
      w.check(kv, "w-");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      long moved = snapshotBytes(cluster) - bytesBefore;
      System.out.printf("scale out: %d regions spread over 4 stores (regions and leaders within tolerance) in %d ms; "
          + "%,d snapshot bytes moved; one writer: %.0f writes/s before, %.0f writes/s during the move%n",
          regionCount, ms, moved, writesPerSecBefore, writesPerSecDuring);
    }
  }

  private static long snapshotBytes(LocalCluster cluster) {
    long sum = 0;
    for (long id : cluster.storeIds()) {
      sum += cluster.storeById(id).node().transport().metrics().snapshotBytesSent();
    }
    return sum;
  }

  @Test
  void anOfflineStoreIsDrainedToTombstoneNeverBelowQuorumAndNothingIsLost() throws Exception {
    try (LocalCluster cluster = start(4, 400); KvClient kv = cluster.newClient(); RemotePdClient pd = pd(cluster)) {
      load(kv, 10_000);
      await().atMost(Duration.ofSeconds(60)).until(() -> regions(pd).size() >= 16 && settled(regions(pd), 3));
      long victim = cluster.store(4).storeId();
      Writer w = new Writer(kv, "w-");
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> w.acked.size() >= 100);
        pd.call(PdMethods.SET_STORE_STATE, SetStoreStateRequest.newBuilder().setStoreId(victim)
            .setState(StoreState.STORE_STATE_OFFLINE).build(), SetStoreStateResponse.parser(),
            SetStoreStateResponse::getError).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
          List<RegionInfo> rs = regions(pd);
          for (RegionInfo r : rs) {
            assertThat(voters(r)).as("voters of region %d", r.getRegion().getId()).isGreaterThanOrEqualTo(3);
          }
          StoreInfo s = pd.getStore(victim).get(10, TimeUnit.SECONDS);
          assertThat(s.getStore().getState()).isEqualTo(StoreState.STORE_STATE_TOMBSTONE);
          assertThat(rs.stream().flatMap(r -> r.getRegion().getPeersList().stream())
              .noneMatch(p -> p.getStoreId() == victim)).isTrue();
        });
      } finally {
        w.close();
      }
      w.check(kv, "w-");
    }
  }

  @Test
  void aRegionMovedBackAndForthLosesNoWriteAndLeavesNoDataBehind() throws Exception {
    try (LocalCluster cluster = start(4, 1_000_000); KvClient kv = cluster.newClient();
         RemotePdClient pd = pd(cluster)) {
      // Balancing off: only the admin's operators move this region.
      for (String scheduler : List.of("balance-region", "balance-leader")) {
        pd.call(PdMethods.SET_SCHEDULER, SetSchedulerRequest.newBuilder().setName(scheduler).setEnabled(false).build(),
            SetSchedulerResponse.parser(), SetSchedulerResponse::getError).get(10, TimeUnit.SECONDS);
      }
      kv.put("w-0000000", "first");
      RegionInfo region = await().atMost(Duration.ofSeconds(30)).until(
          () -> pd.getRegion("w-".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).orElseThrow(),
          r -> r.getRegion().getPeersCount() == 3 && r.getLeader().getId() != 0);
      long regionId = region.getRegion().getId();
      Writer w = new Writer(kv, "w-");
      try {
        for (int round = 0; round < 4; round++) {
          RegionInfo now = pd.getRegionById(regionId).get(10, TimeUnit.SECONDS).orElseThrow();
          Set<Long> on = new HashSet<>();
          now.getRegion().getPeersList().forEach(p -> on.add(p.getStoreId()));
          long from = on.stream().filter(s -> s != now.getLeader().getStoreId()).findFirst().orElseThrow();
          long to = cluster.storeIds().stream().filter(s -> !on.contains(s)).findFirst().orElseThrow();
          AddOperatorResponse op = pd.call(PdMethods.ADD_OPERATOR, AddOperatorRequest.newBuilder()
              .setRegionId(regionId).setKind(OperatorKind.OPERATOR_KIND_MOVE_PEER).setFromStore(from)
              .setToStore(to).build(), AddOperatorResponse.parser(), AddOperatorResponse::getError)
              .get(10, TimeUnit.SECONDS);
          assertThat(op.getOperator().getId()).isPositive();
          await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            RegionInfo r = pd.getRegionById(regionId).get(10, TimeUnit.SECONDS).orElseThrow();
            return r.getRegion().getPeersList().stream().anyMatch(p -> p.getStoreId() == to)
                && r.getRegion().getPeersList().stream().noneMatch(p -> p.getStoreId() == from)
                && settled(List.of(r), 3);
          });
          // The old replica is gone from its store, data included.
          Store old = cluster.storeById(from);
          await().atMost(Duration.ofSeconds(30)).until(() -> dataKeys(old, "w-") == 0);
          assertThat(w.failure.get()).isNull();
        }
      } finally {
        w.close();
      }
      w.check(kv, "w-");
      System.out.printf("moved region %d four times under writes: %d writes acknowledged, %d unknown%n",
          regionId, w.acked.size(), w.unknown.size());
    }
  }

  @Test
  void whenThePdLeaderFailsMidScheduleTheNewLeaderFinishesTheJob() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir).pdMembers(3).stores(3).storeConfig(c -> fast(c, 400))
        .pdConfig(c -> c.withScheduleIntervalMs(200).withMaxStoreDownTimeMs(2_000)).start();
         KvClient kv = cluster.newClient(); RemotePdClient pd = pd(cluster)) {
      load(kv, 10_000);
      await().atMost(Duration.ofSeconds(60)).until(() -> regions(pd).size() >= 16 && settled(regions(pd), 3));
      Writer w = new Writer(kv, "w-");
      long ms;
      try {
        long newStore = cluster.addStore().storeId();
        // Moves onto the new store are under way ...
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> regions(pd).stream()
            .anyMatch(r -> r.getRegion().getPeersList().stream().anyMatch(p -> p.getStoreId() == newStore)));
        // ... when PD's leader goes away.
        long leader = cluster.pdMembers().entrySet().stream().filter(e -> e.getValue().isLeader())
            .mapToLong(Map.Entry::getKey).findFirst().orElseThrow();
        long t0 = System.nanoTime();
        cluster.stopPd(leader);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
          List<RegionInfo> rs = regions(pd);
          assertThat(settled(rs, 3)).as("every region has 3 voters and no learner or joint state").isTrue();
          List<StoreInfo> ss = stores(pd);
          IntSummaryStatistics perStore = ss.stream().mapToInt(s -> s.getStats().getRegionCount()).summaryStatistics();
          assertThat(perStore.getMax() - perStore.getMin()).as("regions per store %s", perStore)
              .isLessThanOrEqualTo((int) Math.max(2, 0.1 * perStore.getAverage()));
        });
        ms = (System.nanoTime() - t0) / 1_000_000;
      } finally {
        w.close();
      }
      w.check(kv, "w-");
      System.out.printf("PD leader stopped during rebalancing; the new leader settled every region and the "
          + "balance %d ms later; %d writes acknowledged throughout%n", ms, w.acked.size());
    }
  }

  /**
   * A move off the region's leader while the store of another voter is dead: the leader hands
   * leadership to the live voter and the move finishes. The dead voter's store is down for the
   * leader (it reports the peer down) long before PD's max-store-down-time. Once, PD handed out a
   * transfer to the dead voter over and over (ClusterProcessCrashTest: a balance move stuck with a
   * caught-up learner until its 10-minute timeout, the region never repaired).
   */
  @Test
  void aMoveOffTheLeaderGoesThroughALiveVoterWhenAnotherVotersStoreIsDead() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir).stores(4).storeConfig(c -> fast(c, 1_000_000))
        .pdConfig(c -> c.withScheduleIntervalMs(200)).start(); KvClient kv = cluster.newClient();
         RemotePdClient pd = pd(cluster)) {
      for (String scheduler : List.of("balance-region", "balance-leader")) {
        pd.call(PdMethods.SET_SCHEDULER, SetSchedulerRequest.newBuilder().setName(scheduler).setEnabled(false).build(),
            SetSchedulerResponse.parser(), SetSchedulerResponse::getError).get(10, TimeUnit.SECONDS);
      }
      kv.put("w-0000000", "first");
      RegionInfo region = await().atMost(Duration.ofSeconds(30)).until(
          () -> pd.getRegion("w-".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).orElseThrow(),
          r -> r.getRegion().getPeersCount() == 3 && r.getLeader().getId() != 0);
      long regionId = region.getRegion().getId();
      // The first voter in the region's peer list dies; the second leads and moves to the 4th store.
      List<Peer> peers = region.getRegion().getPeersList();
      long dead = peers.get(0).getStoreId();
      long leader = peers.get(1).getStoreId();
      long live = peers.get(2).getStoreId();
      long to = cluster.storeIds().stream().filter(s -> s != dead && s != leader && s != live).findFirst().orElseThrow();
      if (region.getLeader().getStoreId() != leader) {
        addOperator(pd, AddOperatorRequest.newBuilder().setRegionId(regionId)
            .setKind(OperatorKind.OPERATOR_KIND_TRANSFER_LEADER).setToStore(leader));
        await().atMost(Duration.ofSeconds(30)).until(
            () -> pd.getRegionById(regionId).get(10, TimeUnit.SECONDS).orElseThrow().getLeader().getStoreId() == leader);
      }
      for (int i = 1; i <= cluster.storeCount(); i++) {
        if (cluster.store(i) != null && cluster.store(i).storeId() == dead) {
          cluster.stopStore(i);
        }
      }
      addOperator(pd, AddOperatorRequest.newBuilder().setRegionId(regionId)
          .setKind(OperatorKind.OPERATOR_KIND_MOVE_PEER).setFromStore(leader).setToStore(to));

      RegionInfo moved = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(
          () -> pd.getRegionById(regionId).get(10, TimeUnit.SECONDS).orElseThrow(),
          r -> r.getRegion().getPeersList().stream().noneMatch(p -> p.getStoreId() == leader) && settled(List.of(r), 3));
      assertThat(moved.getRegion().getPeersList()).extracting(Peer::getStoreId).containsExactlyInAnyOrder(dead, live, to);
      assertThat(moved.getLeader().getStoreId()).isNotEqualTo(dead);
      assertThat(kv.get("w-0000000")).isEqualTo("first");
    }
  }

  private static void addOperator(RemotePdClient pd, AddOperatorRequest.Builder req) throws Exception {
    AddOperatorResponse op = pd.call(PdMethods.ADD_OPERATOR, req.build(), AddOperatorResponse.parser(),
        AddOperatorResponse::getError).get(10, TimeUnit.SECONDS);
    assertThat(op.getOperator().getId()).isPositive();
  }

  /** Keys with {@code prefix} in a store's data column family. */
  private static int dataKeys(Store store, String prefix) {
    byte[] from = prefix.getBytes(StandardCharsets.UTF_8);
    int[] n = {0};
    try (KvSnapshot snap = store.node().storage().reader().snapshot()) {
      snap.scan(Cf.DATA, from, new byte[0], at -> {
        boolean matches = ByteString.copyFrom(at.key()).startsWith(ByteString.copyFrom(from));
        if (matches) {
          n[0]++;
        }
        return matches;
      });
    }
    return n[0];
  }
}
