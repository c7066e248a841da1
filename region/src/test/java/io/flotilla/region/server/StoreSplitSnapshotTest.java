package io.flotilla.region.server;

import static io.flotilla.region.server.StoreCluster.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.region.peer.KeyRange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Splits, snapshots and restarts of stores over real Netty and RocksDB. */
class StoreSplitSnapshotTest {
  @TempDir Path dir;
  private StoreCluster cluster;

  @AfterEach
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static List<String> keys(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(String.format("key-%03d", i));
    }
    return out;
  }

  @Test
  void aRegionPastTheKeyThresholdSplitsOnEveryStoreAndIsReportedToPd() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg.withSplit(96L << 20, 20, Duration.ofMillis(100)));
    StoreCluster c = cluster;
    List<String> expected = new ArrayList<>();
    for (String k : keys(60)) {
      assertThat(c.put(k, "v" + k).getSucceeded()).isTrue();
      expected.add(k + "=v" + k);
    }
    await().atMost(20, TimeUnit.SECONDS).until(() -> c.pd.splitReports.size() >= 2 && sameRegionsEverywhere(c));
    List<Region> regions = sorted(c.stores.get(1).regions());
    assertThat(regions.size()).isGreaterThanOrEqualTo(3);
    assertContiguous(regions);
    for (Region r : regions) {
      assertThat(r.getEpoch().getVersion()).isGreaterThan(1);
      assertThat(r.getPeersCount()).isEqualTo(3);
    }
    for (Region[] report : c.pd.splitReports) {
      assertThat(report[0].getEndKey()).isEqualTo(report[1].getStartKey());
      assertThat(report[0].getEpoch().getVersion()).isEqualTo(report[1].getEpoch().getVersion());
      // The parent's leader campaigns for the new region at once; a new region's replicas are not
      // restarted ones, so even with lease reads (the default) they vote without waiting.
      assertThat(c.leaderOf(report[1].getId()).storeId()).as("leader of new region %d", report[1].getId())
          .isEqualTo(c.leaderOf(report[0].getId()).storeId());
    }
    // A request with the epoch from before the split learns the region and the regions split off it.
    Region original = c.pd.splitReports.get(0)[0];
    Store leader = c.leaderOf(original.getId());
    Region stale = original.toBuilder().setEpoch(original.getEpoch().toBuilder().setVersion(1)).build();
    WriteResponse w;
    try {
      w = WriteResponse.parseFrom(c.call(leader, "kv.write", WriteRequest.newBuilder()
          .setContext(StoreCluster.ctx(stale)).addMutations(StoreTest.put("key-000", "x")).build().toByteArray()));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    List<Region> current = w.getError().getEpochNotMatch().getCurrentRegionsList();
    assertThat(current.size()).isGreaterThanOrEqualTo(2);
    assertThat(current.get(0).getId()).isEqualTo(original.getId());
    assertThat(current.stream().map(Region::getId)).contains(c.pd.splitReports.get(0)[1].getId());
    // Every key is served by its new region, and writes to the new regions work.
    assertThat(c.scanAll("", "", false, 7)).containsExactlyElementsOf(expected);
    assertThat(c.put("key-059", "new").getSucceeded()).isTrue();
    assertThat(c.get("key-059").getValue().toStringUtf8()).isEqualTo("new");
    assertThat(c.get("key-000").getValue().toStringUtf8()).isEqualTo("vkey-000");
    // PD heard of every region from heartbeats or reports.
    await().atMost(10, TimeUnit.SECONDS).until(() -> regions.stream().allMatch(r -> c.pd.regions.containsKey(r.getId())));
  }

  @Test
  void aFollowerBehindALogCompactionCatchesUpByAnSstSnapshot() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg.withDriver(cfg.driver().withCompactLogAfterEntries(10)));
    StoreCluster c = cluster;
    c.put("before", "1");
    await().atMost(10, TimeUnit.SECONDS).until(
        () -> c.stores.values().stream().allMatch(s -> StoreTest.dataKeys(s).contains("before")));
    c.stop(3);
    List<String> written = new ArrayList<>(List.of("before"));
    for (String k : keys(40)) {
      assertThat(c.put(k, "v").getSucceeded()).isTrue();
      written.add(k);
    }
    written.sort(null);
    Store back = c.start(3);
    await().atMost(20, TimeUnit.SECONDS).until(() -> StoreTest.dataKeys(back).equals(written));
    assertThat(back.driver().counters().snapshotsApplied()).isPositive();
    // The snapshot brought the region meta too: the replica can lead and serve.
    Region r = back.regions().get(0);
    back.driver().transferLeader(r.getId(), back.peer(r.getId()).peerId());
    await().atMost(10, TimeUnit.SECONDS).until(() -> back.isLeader(r.getId()));
    assertThat(c.get("key-039").getValue().toStringUtf8()).isEqualTo("v");
  }

  @Test
  void aRegionOfSeveralMegabytesCatchesUpByASnapshotBuiltOffThePollersAndStreamedFileToFile() throws Exception {
    cluster = new StoreCluster(dir, 3, cfg -> cfg.withDriver(cfg.driver().withCompactLogAfterEntries(10)));
    StoreCluster c = cluster;
    c.put("before", "1");
    await().atMost(10, TimeUnit.SECONDS).until(
        () -> c.stores.values().stream().allMatch(s -> StoreTest.dataKeys(s).contains("before")));
    c.stop(3);
    java.util.Random rnd = new java.util.Random(7);
    int n = 400;
    for (int i = 0; i < n; i++) {
      StringBuilder v = new StringBuilder(16 << 10);
      for (int j = 0; j < (16 << 10); j++) {
        v.append((char) ('!' + rnd.nextInt(90))); // NB: barely compressible: the SST is about the data's size
      }
      assertThat(c.put(String.format("big-%04d", i), v.toString()).getSucceeded()).isTrue();
    }
    Store back = c.start(3);
    await().atMost(60, TimeUnit.SECONDS).until(() -> StoreTest.dataKeys(back).size() == n + 1);
    assertThat(back.driver().counters().snapshotsApplied()).isPositive();
    assertThat(back.snapshots().bytesReceived()).as("SST bytes written to the receiver's file")
        .isGreaterThan(5L << 20);
    long unavailable = 0;
    java.util.Set<String> builders = new java.util.HashSet<>();
    for (Store s : List.of(c.stores.get(1), c.stores.get(2))) {
      unavailable += s.snapshots().counters()[3];
      builders.addAll(s.snapshots().builderThreads());
    }
    // The core asked, was told to wait, and asked again on a later heartbeat response.
    assertThat(unavailable).as("requests answered unavailable while building").isPositive();
    assertThat(builders).isNotEmpty().allMatch(t -> t.matches("flotilla-store-\\d+-snap-\\d+"));
    // Sent and applied: no snapshot file is left behind.
    await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(c.stores.values().stream()
        .flatMap(s -> snapFiles(s).stream())).isEmpty());
    assertThat(c.get("big-0399").getValue().size()).isEqualTo(16 << 10);
  }

  private static List<Path> snapFiles(Store s) {
    try (var files = java.nio.file.Files.list(s.config().dataDir().resolve("snap"))) {
      return files.toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void storesRestartedOnTheirDataDirsServeEveryAcknowledgedWrite() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg.withSplit(96L << 20, 15, Duration.ofMillis(100)));
    StoreCluster c = cluster;
    List<String> expected = new ArrayList<>();
    for (String k : keys(30)) {
      assertThat(c.put(k, "v" + k).getSucceeded()).isTrue();
      expected.add(k + "=v" + k);
    }
    await().atMost(20, TimeUnit.SECONDS).until(() -> !c.pd.splitReports.isEmpty() && sameRegionsEverywhere(c));
    List<Region> before = sorted(c.stores.get(1).regions());
    for (int i = 1; i <= 3; i++) {
      c.stop(i);
    }
    for (int i = 1; i <= 3; i++) {
      c.start(i);
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> sameRegionsEverywhere(c));
    assertThat(sorted(c.stores.get(2).regions())).isEqualTo(before);
    assertThat(c.scanAll("", "", false, 0)).containsExactlyElementsOf(expected);
    assertThat(c.put("after", "restart").getSucceeded()).isTrue();
    assertThat(c.get("after").getValue().toStringUtf8()).isEqualTo("restart");
  }

  static List<Region> sorted(List<Region> regions) {
    List<Region> out = new ArrayList<>(regions);
    out.sort(Comparator.comparing(r -> r.getStartKey().toByteArray(), KeyRange::compare));
    return out;
  }

  static boolean sameRegionsEverywhere(StoreCluster c) {
    List<Region> first = null;
    for (Store s : c.stores.values()) {
      List<Region> rs = sorted(s.regions());
      if (first == null) {
        first = rs;
      } else if (!first.equals(rs)) {
        return false;
      }
    }
    return first != null && !first.isEmpty();
  }

  static void assertContiguous(List<Region> regions) {
    assertThat(regions.get(0).getStartKey().isEmpty()).isTrue();
    assertThat(regions.get(regions.size() - 1).getEndKey().isEmpty()).isTrue();
    for (int i = 1; i < regions.size(); i++) {
      assertThat(regions.get(i).getStartKey()).isEqualTo(regions.get(i - 1).getEndKey());
    }
  }
}
