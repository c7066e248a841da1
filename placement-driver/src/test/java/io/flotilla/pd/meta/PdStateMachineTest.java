package io.flotilla.pd.meta;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.pdinternal.BootstrapCluster;
import io.flotilla.engine.proto.pdinternal.InitCluster;
import io.flotilla.engine.proto.pdinternal.PdCommand;
import io.flotilla.engine.proto.pdinternal.PdRegionRecord;
import io.flotilla.engine.proto.pdinternal.PutRegionCommand;
import io.flotilla.engine.proto.pdinternal.PutStoreCommand;
import io.flotilla.engine.proto.pdinternal.ReserveIds;
import io.flotilla.engine.proto.pdinternal.SaveTsoWindow;
import io.flotilla.engine.proto.pdinternal.SplitRegionCommand;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.storage.StorageConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PD's state machine on real RocksDB: apply rules, durability across reopen, snapshot and restore. */
class PdStateMachineTest {
  static final long G = PdStateMachine.GROUP_ID;

  @TempDir Path dir;
  long index;

  @Test
  void theStateSurvivesAReopenAndAFollowerRestoresItFromASnapshot() {
    byte[] snapshot;
    try (NodeStorage storage = open("a", true)) {
      PdStateMachine sm = PdStateMachine.open(storage);
      List<ApplyResult> r = apply(storage, sm,
          init(42), init(43),
          putStore(Store.newBuilder().setId(1).setAddress("h:1").build()),
          bootstrap(Store.newBuilder().setId(2).setAddress("h:2").build(), region(10, "", "", 1, 1, peer(11, 2))),
          reserve(100), reserve(5),
          split(region(20, "", "k", 2, 1, peer(21, 2)), region(10, "k", "", 2, 1, peer(11, 2))));
      assertThat(r.get(0).value()).isEqualTo(42);
      assertThat(r.get(1).value()).as("the first cluster id stays").isEqualTo(42);
      assertThat(r.get(3).isOk()).isTrue();
      assertThat(r.get(4).value()).isEqualTo(1);
      assertThat(r.get(5).value()).isEqualTo(101);
      assertThat(r.get(6).value()).as("both halves taken").isEqualTo(3);
      snapshot = sm.snapshot(G);
    }
    try (NodeStorage storage = open("a", false)) {
      assertState(PdStateMachine.open(storage).state());
    }
    try (NodeStorage follower = open("b", true)) {
      PdStateMachine sm = PdStateMachine.open(follower);
      apply(follower, sm, init(7), reserve(1_000), putStore(Store.newBuilder().setId(9).setAddress("h:9").build()));
      try (StorageBatch b = follower.newBatch()) {
        sm.restore(G, snapshot, b);
        follower.write(b);
      }
      assertState(sm.state());
      assertThat(sm.state().store(9)).as("restore replaces, not merges").isEmpty();
    }
    try (NodeStorage follower = open("b", false)) {
      assertState(PdStateMachine.open(follower).state());
    }
  }

  @Test
  void regionReportsFollowTheEpochRules() {
    try (NodeStorage storage = open("c", true)) {
      PdStateMachine sm = PdStateMachine.open(storage);
      MetaState s = sm.state();
      List<ApplyResult> boot = apply(storage, sm, init(1), putStore(Store.newBuilder().setId(2).setAddress("h:2").build()),
          bootstrap(Store.newBuilder().setId(1).setAddress("h:1").build(),
              region(10, "", "", 5, 5, peer(11, 1), peer(12, 2))));
      assertThat(boot).allMatch(ApplyResult::isOk);
      assertThat(taken(apply(storage, sm, putRegion(region(10, "", "", 4, 6, peer(11, 1)), 11, 1)))).isFalse();
      assertThat(taken(apply(storage, sm, putRegion(region(10, "", "", 6, 4, peer(11, 1)), 11, 1)))).isFalse();
      assertThat(s.regionById(10).orElseThrow().getRegion().getPeersCount()).isEqualTo(2);
      assertThat(taken(apply(storage, sm, putRegion(region(10, "", "", 5, 5, peer(11, 1), peer(12, 2)), 12, 3))))
          .as("same epoch, a leader: taken").isTrue();
      assertThat(s.regionById(10).orElseThrow().getLeader().getId()).isEqualTo(12);
      // A newer right half reported alone replaces the parent's id and leaves a gap on the left.
      assertThat(taken(apply(storage, sm, putRegion(region(10, "m", "", 6, 5, peer(11, 1), peer(12, 2)), 12, 3))))
          .isTrue();
      assertThat(s.regionByKey(bytes("a"))).isEmpty();
      // The left half arrives later and fills it; a stale left of an older split is refused.
      assertThat(taken(apply(storage, sm, putRegion(region(30, "", "m", 6, 5, peer(31, 1)), 31, 3)))).isTrue();
      assertThat(taken(apply(storage, sm, putRegion(region(40, "", "z", 5, 5, peer(41, 1)), 41, 3)))).isFalse();
      assertThat(s.scanRegions(bytes(""), bytes(""), 0)).extracting(r -> r.getRegion().getId())
          .containsExactly(30L, 10L);
      // A newer region covering both replaces both (a later merge).
      assertThat(taken(apply(storage, sm, putRegion(region(10, "", "", 7, 5, peer(11, 1)), 11, 4)))).isTrue();
      assertThat(s.scanRegions(bytes(""), bytes(""), 0)).extracting(r -> r.getRegion().getId()).containsExactly(10L);
      assertThat(s.regionById(30)).isEmpty();
      assertThat(s.regionById(10).orElseThrow().getLeader().getId()).isEqualTo(11);
    }
  }

  @Test
  void theTsoBoundOnlyRisesAnswersTheBoundBeforeAndSurvivesReopenAndSnapshot() {
    byte[] snapshot;
    try (NodeStorage storage = open("t", true)) {
      PdStateMachine sm = PdStateMachine.open(storage);
      List<ApplyResult> r = apply(storage, sm, saveTso(5_000), saveTso(4_000), saveTso(8_000), saveTso(0));
      assertThat(r).extracting(ApplyResult::value).containsExactly(0L, 5_000L, 5_000L, 0L);
      assertThat(r.get(3).error()).isEqualTo(PdErrorType.PD_ERROR_INVALID_ARGUMENT);
      assertThat(sm.state().tsoSavedUntilMs()).as("raised by 8000, never lowered by 4000").isEqualTo(8_000);
      snapshot = sm.snapshot(G);
    }
    try (NodeStorage storage = open("t", false)) {
      assertThat(PdStateMachine.open(storage).state().tsoSavedUntilMs()).isEqualTo(8_000);
    }
    try (NodeStorage follower = open("u", true)) {
      PdStateMachine sm = PdStateMachine.open(follower);
      apply(follower, sm, saveTso(99_000));
      try (StorageBatch b = follower.newBatch()) {
        sm.restore(G, snapshot, b);
        follower.write(b);
      }
      assertThat(sm.state().tsoSavedUntilMs()).as("restore replaces: the snapshot's bound").isEqualTo(8_000);
      assertThat(apply(follower, sm, saveTso(9_000)).get(0).value()).isEqualTo(8_000);
    }
  }

  @Test
  void commandsThatBreakARuleAreRefusedWithATypedError() {
    try (NodeStorage storage = open("d", true)) {
      PdStateMachine sm = PdStateMachine.open(storage);
      Store one = Store.newBuilder().setId(1).setAddress("h:1").build();
      List<ApplyResult> r = apply(storage, sm,
          reserve(0),
          bootstrap(one, region(10, "", "", 1, 1, peer(11, 1), peer(12, 1))),
          bootstrap(one, region(10, "", "", 1, 1, peer(11, 1))),
          bootstrap(one, region(10, "", "", 1, 1, peer(11, 1))),
          putStore(Store.newBuilder().setId(2).setAddress("h:1").build()),
          unknownCommand());
      assertThat(r).extracting(ApplyResult::error).containsExactly(
          PdErrorType.PD_ERROR_INVALID_ARGUMENT,
          PdErrorType.PD_ERROR_INVALID_ARGUMENT,
          PdErrorType.PD_ERROR_NONE,
          PdErrorType.PD_ERROR_ALREADY_BOOTSTRAPPED,
          PdErrorType.PD_ERROR_INVALID_ARGUMENT,
          PdErrorType.PD_ERROR_INVALID_ARGUMENT);
    }
  }

  /** A command of a newer PD: only a field this build does not know. */
  private static PdCommand unknownCommand() {
    try {
      return PdCommand.parseFrom(new byte[] {(byte) 0x98, 0x06, 0x01}); // field 99, varint 1
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static void assertState(MetaState s) {
    assertThat(s.clusterId()).isEqualTo(42);
    assertThat(s.isBootstrapped()).isTrue();
    assertThat(s.idBound()).isEqualTo(105);
    assertThat(s.stores()).extracting(Store::getId).containsExactly(1L, 2L);
    assertThat(s.regionByKey(bytes("a")).orElseThrow().getRegion().getId()).isEqualTo(20);
    assertThat(s.regionByKey(bytes("k")).orElseThrow().getRegion().getId()).isEqualTo(10);
    assertThat(s.regionCount()).isEqualTo(2);
  }

  private NodeStorage open(String name, boolean create) {
    NodeStorage s = NodeStorage.open(StorageConfig.defaults(dir.resolve(name)));
    if (create) {
      s.createGroup(G, ConfState.ofVoters(1L));
    }
    return s;
  }

  private List<ApplyResult> apply(NodeStorage storage, PdStateMachine sm, PdCommand... commands) {
    List<Entry> entries = new ArrayList<>();
    for (PdCommand c : commands) {
      entries.add(Entry.normal(1, ++index, c.toByteArray()));
    }
    try (StorageBatch b = storage.newBatch()) {
      List<ApplyResult> results = sm.apply(G, entries, b);
      b.setApplied(G, index);
      storage.write(b);
      return results;
    }
  }

  private static boolean taken(List<ApplyResult> results) {
    return results.get(0).value() == 1;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Peer peer(long id, long store) {
    return Peer.newBuilder().setId(id).setStoreId(store).build();
  }

  static Region region(long id, String start, String end, long version, long confVer, Peer... peers) {
    return Region.newBuilder().setId(id)
        .setStartKey(ByteString.copyFromUtf8(start)).setEndKey(ByteString.copyFromUtf8(end))
        .setEpoch(RegionEpoch.newBuilder().setVersion(version).setConfVer(confVer))
        .addAllPeers(List.of(peers)).build();
  }

  static PdCommand init(long clusterId) {
    return PdCommand.newBuilder().setInitCluster(InitCluster.newBuilder().setClusterId(clusterId)).build();
  }

  static PdCommand putStore(Store s) {
    return PdCommand.newBuilder().setPutStore(PutStoreCommand.newBuilder().setStore(s)).build();
  }

  static PdCommand bootstrap(Store s, Region r) {
    return PdCommand.newBuilder().setBootstrap(BootstrapCluster.newBuilder().setStore(s).setRegion(r)).build();
  }

  static PdCommand reserve(long count) {
    return PdCommand.newBuilder().setReserveIds(ReserveIds.newBuilder().setCount(count)).build();
  }

  static PdCommand saveTso(long untilMs) {
    return PdCommand.newBuilder().setSaveTsoWindow(SaveTsoWindow.newBuilder().setUntilMs(untilMs)).build();
  }

  static PdCommand split(Region left, Region right) {
    return PdCommand.newBuilder().setSplitRegion(SplitRegionCommand.newBuilder().setLeft(left).setRight(right))
        .build();
  }

  static PdCommand putRegion(Region r, long leaderPeer, long term) {
    Peer leader = r.getPeersList().stream().filter(p -> p.getId() == leaderPeer).findFirst().orElseThrow();
    return PdCommand.newBuilder().setPutRegion(PutRegionCommand.newBuilder().setRegion(
        PdRegionRecord.newBuilder().setRegion(r).setLeader(leader).setLeaderTerm(term))).build();
  }
}
