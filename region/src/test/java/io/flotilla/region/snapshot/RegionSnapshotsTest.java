package io.flotilla.region.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.UnavailableException;
import io.flotilla.region.peer.DedupEntry;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.peer.RegionRecords;
import io.flotilla.region.split.SplitApplier;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.storage.StorageConfig;
import io.flotilla.region.txn.MvccKeys;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SST snapshots: built by a worker, streamed file to file, applied, and the roll-forward of an apply a crash interrupted. */
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
    try (KvSnapshot snap = s.reader().snapshot()) {
      snap.scan(Cf.DATA, new byte[0], new byte[0], at -> {
        out.add(new String(at.key(), StandardCharsets.UTF_8) + "=" + new String(at.value(), StandardCharsets.UTF_8));
        return true;
      });
    }
    return out;
  }

  @Test
  void aSnapshotHoldsOnlyTheRegionsRangeAndItsMeta() {
    try (NodeStorage s = open(dir.resolve("a")); RegionSnapshots snaps = new RegionSnapshots(s, dir.resolve("snap"))) {
      put(s, "a", "1", "b", "2", "m", "3", "z", "4");
      Region r = region("b", "n", 3);
      SnapshotMetadata meta = new SnapshotMetadata(SplitApplier.confState(r), 20, 6);
      SnapshotData d = SnapshotData.decode(snaps.buildNow(meta, r, Map.of(), dir.resolve("b.sst")).encode());
      assertThat(d.region()).isEqualTo(r);
      assertThat(d.metadata()).isEqualTo(meta);
      assertThat(d.sstBytes()).isPositive().isEqualTo(size(Path.of(d.sstFile())));
      // Empty range: no SST at all.
      Region empty = region("c", "d", 3);
      SnapshotData none = snaps.buildNow(meta, empty, Map.of(), dir.resolve("c.sst"));
      assertThat(none.hasSst()).isFalse();
      assertThat(Files.exists(dir.resolve("c.sst"))).isFalse();
    }
  }

  @Test
  void theFirstRequestIsUnavailableAndALaterOneServesWhatAWorkerBuilt() throws Exception {
    try (NodeStorage s = open(dir.resolve("a"));
        RegionSnapshots snaps = new RegionSnapshots(s, dir.resolve("snap"), "flotilla-store-9-snap")) {
      put(s, "b", "2", "c", "3");
      Region r = region("a", "m", 3);
      SnapshotMetadata meta = new SnapshotMetadata(SplitApplier.confState(r), 20, 6);
      assertThatThrownBy(() -> snaps.request(REGION, meta, r, Map.of(), 5)).isInstanceOf(UnavailableException.class);
      // Written after the request: not in the snapshot, which reads the state as of the request.
      put(s, "d", "4");
      SnapshotData d = await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(UnavailableException.class)
          .until(() -> snaps.request(REGION, meta, r, Map.of(), 5), x -> x != null);
      assertThat(d.metadata()).isEqualTo(meta);
      assertThat(snaps.builderThreads()).isNotEmpty().allMatch(t -> t.startsWith("flotilla-store-9-snap-"))
          .doesNotContain(Thread.currentThread().getName());
      long[] k = snaps.counters();
      assertThat(k[0]).as("builds started").isEqualTo(1);
      assertThat(k[3]).as("answered unavailable").isPositive();
      // The same build serves a second follower while it is kept.
      assertThat(snaps.request(REGION, meta, r, Map.of(), 5)).isEqualTo(d);

      Path leaderFile = Path.of(d.sstFile());
      byte[] sent;
      SnapshotStreams.Outgoing out = snaps.streams().outgoing(REGION, d.encode());
      try (InputStream body = out.body()) {
        sent = body.readAllBytes();
      }
      assertThat(sent).hasSize((int) d.sstBytes());
      assertThat(Files.exists(leaderFile)).as("deleted once sent").isFalse();
      assertThat(snaps.keptBuilds()).isZero();
      // Once sent, the next request builds afresh.
      assertThatThrownBy(() -> snaps.request(REGION, meta, r, Map.of(), 5)).isInstanceOf(UnavailableException.class);
    }
  }

  @Test
  void aReadySnapshotTheFollowerCouldNotContinueFromIsBuiltAgain() {
    try (NodeStorage s = open(dir.resolve("a")); RegionSnapshots snaps = new RegionSnapshots(s, dir.resolve("snap"))) {
      put(s, "b", "2");
      Region r = region("a", "m", 3);
      SnapshotMetadata at20 = new SnapshotMetadata(SplitApplier.confState(r), 20, 6);
      SnapshotData d = readySnapshot(snaps, at20, r, 5);
      assertThat(d.metadata().index()).isEqualTo(20);
      // The log was compacted past 21 meanwhile: a snapshot at 20 would need another at once.
      assertThatThrownBy(() -> snaps.request(REGION, new SnapshotMetadata(at20.confState(), 40, 6), r, Map.of(), 30))
          .isInstanceOf(UnavailableException.class);
      SnapshotData fresh = readySnapshot(snaps, new SnapshotMetadata(at20.confState(), 40, 6), r, 30);
      assertThat(fresh.metadata().index()).isEqualTo(40);
      assertThat(Files.exists(Path.of(d.sstFile()))).as("the stale file is deleted").isFalse();
    }
  }

  @Test
  void aRegionOfSeveralMegabytesTravelsAsASmallDescriptorAndAFileStreamedInChunks() throws Exception {
    Region r = region("a", "m", 3);
    SnapshotMetadata meta = new SnapshotMetadata(SplitApplier.confState(r), 20, 6);
    byte[] value = new byte[64 << 10];
    new java.util.Random(1).nextBytes(value); // NB: incompressible, so the SST is as large as the data
    try (NodeStorage leader = open(dir.resolve("leader"));
        RegionSnapshots ls = new RegionSnapshots(leader, dir.resolve("leader-snap"));
        NodeStorage follower = open(dir.resolve("follower"));
        RegionSnapshots fs = new RegionSnapshots(follower, dir.resolve("follower-snap"))) {
      for (int i = 0; i < 96; i++) {
        try (StorageBatch b = leader.newBatch()) {
          value[0] = (byte) i;
          b.put(Cf.DATA, String.format("k%03d", i).getBytes(StandardCharsets.UTF_8), value);
          leader.write(b);
        }
      }
      SnapshotData d = readySnapshot(ls, meta, r, 5);
      byte[] header = ls.streams().outgoing(REGION, d.encode()).header();
      assertThat(d.sstBytes()).as("the region's SST").isGreaterThan(4L << 20);
      assertThat(header.length).as("what rides in the Raft message").isLessThan(1024);

      SnapshotStreams.Incoming in = fs.streams().incoming(REGION, header);
      try (InputStream body = ls.streams().outgoing(REGION, d.encode()).body()) {
        byte[] chunk;
        while ((chunk = body.readNBytes(1 << 20)).length > 0) {
          in.write(chunk).get(10, TimeUnit.SECONDS);
        }
      }
      SnapshotData received = SnapshotData.decode(in.complete().get(10, TimeUnit.SECONDS));
      assertThat(received.sstFile()).startsWith(dir.resolve("follower-snap").toString());
      assertThat(fs.bytesReceived()).isEqualTo(d.sstBytes());
      try (StorageBatch b = follower.newBatch()) {
        b.createGroup(REGION, SplitApplier.confState(r));
        follower.write(b);
      }
      fs.ingest(REGION, received);
      try (StorageBatch b = follower.newBatch()) {
        fs.finish(REGION, received, b);
        follower.write(b);
      }
      assertThat(data(follower)).hasSize(96);
      assertThat(Files.exists(Path.of(received.sstFile()))).as("deleted once applied").isFalse();
    }
  }

  @Test
  void aBodyShorterThanItsDescriptorSaysIsRefused() throws Exception {
    try (NodeStorage s = open(dir.resolve("a")); RegionSnapshots snaps = new RegionSnapshots(s, dir.resolve("snap"))) {
      Region r = region("a", "m", 3);
      SnapshotData d = new SnapshotData(new SnapshotMetadata(SplitApplier.confState(r), 20, 6), r, Map.of(),
          "/elsewhere/x.sst", 100);
      SnapshotStreams.Incoming in = snaps.streams().incoming(REGION, d.encode());
      in.write(new byte[60]).get(10, TimeUnit.SECONDS);
      assertThatThrownBy(() -> in.complete().get(10, TimeUnit.SECONDS)).hasMessageContaining("60 bytes");
      try (var files = Files.list(dir.resolve("snap"))) {
        assertThat(files).isEmpty();
      }
      assertThatThrownBy(() -> SnapshotStreams.HEAP.incoming(REGION, d.encode()))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void anApplyInterruptedAfterTheIngestIsRolledForwardAtStartup() throws Exception {
    Region newRegion = region("a", "m", 2);
    SnapshotMetadata meta = new SnapshotMetadata(SplitApplier.confState(newRegion), 20, 6);
    Map<Long, DedupEntry> dedup = Map.of(9L, DedupEntry.single(3, WriteResponse.newBuilder().setSucceeded(true).build()));
    SnapshotData built;
    try (NodeStorage leader = open(dir.resolve("leader"));
        RegionSnapshots ls = new RegionSnapshots(leader, dir.resolve("leader-snap"))) {
      put(leader, "b", "new", "d", "new", "x", "outside");
      built = ls.buildNow(meta, newRegion, dedup, dir.resolve("built.sst"));
    }
    Path followerDir = dir.resolve("follower");
    Path snapDir = dir.resolve("follower-snap");
    try (NodeStorage f = open(followerDir); RegionSnapshots fs = new RegionSnapshots(f, snapDir)) {
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
      // Received (step 1), then steps 2-3 only: the crash comes before the round's batch.
      Path received = snapDir.resolve("recv-7-20-1.sst");
      Files.copy(Path.of(built.sstFile()), received);
      fs.ingest(REGION, built.withSstFile(received.toString()));
      assertThat(f.group(REGION).appliedIndex()).isEqualTo(SplitApplier.INIT_INDEX);
    }
    try (NodeStorage f = open(followerDir); RegionSnapshots fs = new RegionSnapshots(f, snapDir)) {
      fs.recover();
      assertThat(f.group(REGION).appliedIndex()).isEqualTo(20);
      assertThat(f.group(REGION).snapshotMetadata().index()).isEqualTo(20);
      assertThat(f.group(REGION).hardState().commit()).isEqualTo(20);
      assertThat(f.group(REGION).hardState().term()).isEqualTo(6);
      assertThat(f.group(REGION).lastIndex()).isEqualTo(20);
      RegionRecords.Loaded rec = RegionRecords.loadAll(f.reader()).get(0);
      assertThat(rec.region()).isEqualTo(newRegion);
      assertThat(rec.peerId()).isEqualTo(3);
      assertThat(rec.dedup()).isEqualTo(dedup);
      // The region's range holds exactly the snapshot's keys; other ranges are untouched.
      assertThat(data(f)).containsExactly("b=new", "d=new", "z=other-region");
      assertThat(f.reader().get(Cf.META, RegionRecords.snapshotApplyingKey(REGION))).as("marker deleted").isNull();
      try (var files = Files.list(snapDir)) {
        assertThat(files).as("stale files removed at start").isEmpty();
      }
    }
  }

  private static void putRaw(NodeStorage s, Cf cf, byte[] key, String value) {
    try (StorageBatch b = s.newBatch()) {
      b.put(cf, key, value.getBytes(StandardCharsets.UTF_8));
      s.write(b);
    }
  }

  private static List<String> family(NodeStorage s, Cf cf) {
    List<String> out = new ArrayList<>();
    try (KvSnapshot snap = s.reader().snapshot()) {
      snap.scan(cf, new byte[0], new byte[0], at -> {
        out.add(java.util.HexFormat.of().formatHex(at.key()));
        return true;
      });
    }
    return out;
  }

  private static String hex(byte[] k) {
    return java.util.HexFormat.of().formatHex(k);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theTransactionFamiliesTravelInTheSnapshotFileAndReplaceTheRegionsRangeInEachFamily() throws Exception {
    Region r = region("b", "", 3); // to the end: range deletes bounded by each family's last key
    SnapshotMetadata meta = new SnapshotMetadata(SplitApplier.confState(r), 20, 6);
    SnapshotData built;
    try (NodeStorage leader = open(dir.resolve("leader"));
        RegionSnapshots ls = new RegionSnapshots(leader, dir.resolve("leader-snap"))) {
      put(leader, "b", "raw");
      putRaw(leader, Cf.LOCK, MvccKeys.lockKey(utf8("c")), "lock");
      putRaw(leader, Cf.WRITE, MvccKeys.writeKey(utf8("c"), 5), "write");
      putRaw(leader, Cf.VERSION, MvccKeys.versionKey(utf8("c"), 3), "value");
      putRaw(leader, Cf.LOCK, MvccKeys.lockKey(utf8("a")), "outside");
      built = SnapshotData.decode(ls.buildNow(meta, r, Map.of(), dir.resolve("built.sst")).encode());
    }
    assertThat(built.parts()).extracting(SnapshotData.Part::cf).containsExactly(Cf.DATA, Cf.LOCK, Cf.WRITE, Cf.VERSION);
    assertThat(built.sstBytes()).isEqualTo(size(Path.of(built.sstFile())));
    Path snapDir = dir.resolve("follower-snap");
    try (NodeStorage f = open(dir.resolve("follower")); RegionSnapshots fs = new RegionSnapshots(f, snapDir)) {
      putRaw(f, Cf.WRITE, MvccKeys.writeKey(utf8("d"), 1), "stale, in range");
      putRaw(f, Cf.WRITE, MvccKeys.writeKey(utf8("a"), 1), "another region's");
      putRaw(f, Cf.LOCK, MvccKeys.lockKey(utf8("zz")), "stale, in range");
      Path received = snapDir.resolve("recv-7-20-1.sst");
      Files.copy(Path.of(built.sstFile()), received);
      fs.ingest(REGION, built.withSstFile(received.toString()));
      assertThat(data(f)).containsExactly("b=raw");
      assertThat(family(f, Cf.LOCK)).containsExactly(hex(MvccKeys.lockKey(utf8("c"))));
      assertThat(family(f, Cf.WRITE)).containsExactly(hex(MvccKeys.writeKey(utf8("a"), 1)),
          hex(MvccKeys.writeKey(utf8("c"), 5)));
      assertThat(family(f, Cf.VERSION)).containsExactly(hex(MvccKeys.versionKey(utf8("c"), 3)));
      assertThat(Files.exists(received)).as("kept for a roll-forward until the batch is durable").isTrue();
    }
  }

  private static SnapshotData readySnapshot(RegionSnapshots snaps, SnapshotMetadata meta, Region r, long firstIndex) {
    return await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(UnavailableException.class)
        .until(() -> snaps.request(REGION, meta, r, Map.of(), firstIndex), x -> x != null);
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
