package io.flotilla.region.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.region.peer.DedupEntry;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.peer.RegionRecords;
import io.flotilla.region.split.SplitApplier;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.storage.StorageConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;

/** SST snapshots: build, and the roll-forward of an apply a crash interrupted. */
class RegionSnapshotsTest {
  @TempDir Path dir;

  private static final long REGION = 7;

  private static Region region(String start, String end, long version) {
    Region.Builder b = Region.newBuilder().setId(REGION).setStartKey(ByteString.copyFromUtf8(start))
        .setEndKey(ByteString.copyFromUtf8(end)).setEpoch(RegionEpoch.newBuilder().setVersion(version).setConfVer(1));
    for (long p = 1; p <= 3; p++) {
      b.addPeers(Peer.newBuilder().setId(p).setStoreId(p));
    }
    return b.build();
  }

  private static NodeStorage open(Path p) {
    return NodeStorage.open(StorageConfig.defaults(p).withFsync(false).withBlockCacheBytes(8 << 20));
  }

  private static void put(NodeStorage s, String... kvs) {
    try (StorageBatch b = s.newBatch()) {
      for (int i = 0; i < kvs.length; i += 2) {
        b.put(Cf.DATA, kvs[i].getBytes(StandardCharsets.UTF_8), kvs[i + 1].getBytes(StandardCharsets.UTF_8));
      }
      s.write(b);
    }
  }

  private static List<String> data(NodeStorage s) {
    List<String> out = new ArrayList<>();
    try (RocksIterator it = s.db().newIterator(s.handle(Cf.DATA))) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        out.add(new String(it.key(), StandardCharsets.UTF_8) + "=" + new String(it.value(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  @Test
  void aSnapshotHoldsOnlyTheRegionsRangeAndItsMeta() {
    try (NodeStorage s = open(dir.resolve("a"))) {
      put(s, "a", "1", "b", "2", "m", "3", "z", "4");
      RegionSnapshots snaps = new RegionSnapshots(s, dir.resolve("snap"));
      Region r = region("b", "n", 3);
      SnapshotMetadata meta = new SnapshotMetadata(SplitApplier.confState(r), 20, 6);
      SnapshotData d = SnapshotData.decode(snaps.build(meta, r, Map.of()).encode());
      assertThat(d.region()).isEqualTo(r);
      assertThat(d.metadata()).isEqualTo(meta);
      assertThat(d.sst().length).isPositive();
      // Empty range: no SST at all.
      Region empty = region("c", "d", 3);
      assertThat(snaps.build(meta, empty, Map.of()).sst()).isEmpty();
    }
  }

  @Test
  void anApplyInterruptedAfterTheIngestIsRolledForwardAtStartup() {
    Region newRegion = region("a", "m", 2);
    SnapshotMetadata meta = new SnapshotMetadata(SplitApplier.confState(newRegion), 20, 6);
    Map<Long, DedupEntry> dedup = Map.of(9L, DedupEntry.single(3, WriteResponse.newBuilder().setSucceeded(true).build()));
    byte[] encoded;
    try (NodeStorage leader = open(dir.resolve("leader"))) {
      put(leader, "b", "new", "d", "new", "x", "outside");
      encoded = new RegionSnapshots(leader, dir.resolve("leader-snap")).build(meta, newRegion, dedup).encode();
    }
    Path followerDir = dir.resolve("follower");
    Path snapDir = dir.resolve("follower-snap");
    try (NodeStorage f = open(followerDir)) {
      Region old = region("a", "m", 1);
      try (StorageBatch b = f.newBatch()) {
        b.createGroup(REGION, SplitApplier.confState(old));
        b.applySnapshot(REGION, SplitApplier.initialSnapshot(old));
        b.setHardState(REGION, SplitApplier.initialHardState());
        b.setApplied(REGION, SplitApplier.INIT_INDEX);
        b.put(Cf.META, RegionRecords.regionKey(REGION), RegionRecords.encodeRegion(RegionPeer.State.NORMAL, 3, old));
        f.write(b);
      }
      put(f, "b", "old", "c", "old", "z", "other-region");
      // Steps 1-3 only: the crash comes before the round's batch.
      new RegionSnapshots(f, snapDir).ingest(REGION, encoded, SnapshotData.decode(encoded));
      assertThat(f.group(REGION).appliedIndex()).isEqualTo(SplitApplier.INIT_INDEX);
    }
    try (NodeStorage f = open(followerDir)) {
      new RegionSnapshots(f, snapDir).recover();
      assertThat(f.group(REGION).appliedIndex()).isEqualTo(20);
      assertThat(f.group(REGION).snapshotMetadata().index()).isEqualTo(20);
      assertThat(f.group(REGION).hardState().commit()).isEqualTo(20);
      assertThat(f.group(REGION).hardState().term()).isEqualTo(6);
      assertThat(f.group(REGION).lastIndex()).isEqualTo(20);
      RegionRecords.Loaded rec = RegionRecords.loadAll(f).get(0);
      assertThat(rec.region()).isEqualTo(newRegion);
      assertThat(rec.peerId()).isEqualTo(3);
      assertThat(rec.dedup()).isEqualTo(dedup);
      // The region's range holds exactly the snapshot's keys; other ranges are untouched.
      assertThat(data(f)).containsExactly("b=new", "d=new", "z=other-region");
      try (RocksIterator it = f.db().newIterator(f.handle(Cf.META))) {
        it.seek(RegionRecords.snapshotApplyingKey(REGION));
        assertThat(it.isValid() && java.util.Arrays.equals(it.key(), RegionRecords.snapshotApplyingKey(REGION)))
            .as("marker deleted").isFalse();
      }
    }
  }
}
