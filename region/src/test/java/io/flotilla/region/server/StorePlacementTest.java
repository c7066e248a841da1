package io.flotilla.region.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.AdminRequest;
import io.flotilla.engine.proto.AdminResponse;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChange;
import io.flotilla.engine.proto.PeerChangeType;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.RaftCommand;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.SplitRegionStep;
import io.flotilla.engine.proto.SplitRequest;
import io.flotilla.engine.proto.TransferLeaderStep;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.StateType;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.peer.Membership;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.snapshot.SnapshotData;
import io.flotilla.region.split.SplitApplier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stores carrying out PD's operator steps (membership changes, leader transfer, split) over real
 * Netty and RocksDB, with the fake PD answering region heartbeats with queued steps.
 */
class StorePlacementTest {
  @TempDir Path dir;
  private StoreCluster cluster;

  @AfterEach
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  // ------------------------------------------------------------------ move a replica

  @Test
  void aReplicaMovesFromStore3ToStore4ByLearnerSnapshotAndJointSwapUnderWrites() throws Exception {
    cluster = new StoreCluster(dir, 4, cfg -> cfg);
    StoreCluster c = cluster;
    Region region = firstRegionOnStores(c, 1, 2, 3);
    long rid = region.getId();
    long oldPeer = peerOnStore(region, c.stores.get(3).storeId()).getId();
    long newPeer = c.pd.nextId.getAndIncrement();
    long store4 = c.stores.get(4).storeId();

    // The leader is the replica that moves away: it leads through the joint configuration and
    // steps down when the joint configuration is left.
    Store firstLeader = c.leaderOf(rid);
    if (firstLeader != c.stores.get(3)) {
      firstLeader.driver().transferLeader(rid, oldPeer);
      await().atMost(10, TimeUnit.SECONDS).until(() -> c.stores.get(3).isLeader(rid));
    }

    Map<String, String> acked = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> writerFailed = new AtomicReference<>();
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; !stop.get(); i++) {
          String k = String.format("k-%05d", i);
          try {
            // An error (e.g. OutcomeUnknown while the leader left) is not acknowledged.
            if (c.put(k, "v" + i).getSucceeded()) {
              acked.put(k, "v" + i);
            }
          } catch (AssertionError rpcFailed) {
            // The RPC failed: not acknowledged.
          }
        }
      } catch (Throwable t) {
        writerFailed.set(t);
      }
    }, "test-writer");
    writer.start();
    await().atMost(10, TimeUnit.SECONDS).until(() -> acked.size() >= 20);

    // Step 1: a learner on store 4, caught up by a snapshot (PD waits until it is not pending).
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER, newPeer, store4))),
        hb -> hasRole(hb.getRegion(), newPeer, PeerRole.PEER_ROLE_LEARNER) && !pending(hb, newPeer));
    await().atMost(20, TimeUnit.SECONDS).until(() -> c.pd.stepsDone(rid));
    Region afterLearner = sameMetaOnReplicas(c, rid, 1, 2, 3, 4);
    assertThat(afterLearner.getEpoch().getConfVer()).isEqualTo(region.getEpoch().getConfVer() + 1);
    assertThat(c.stores.get(4).driver().counters().snapshotsApplied()).isPositive();
    assertThat(c.stores.get(4).peer(rid).peerId()).isEqualTo(newPeer);

    // Step 2: joint swap (promote the learner, remove the old voter), left automatically.
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_VOTER, newPeer, store4))
        .addChanges(change(PeerChangeType.PEER_CHANGE_REMOVE, oldPeer, c.stores.get(3).storeId()))),
        hb -> Membership.peer(hb.getRegion(), oldPeer) == null || Membership.isJoint(hb.getRegion()));
    // Step 3: leave the joint configuration (a no-op once the core auto-left it).
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .setLeaveJoint(true)),
        hb -> !Membership.isJoint(hb.getRegion()) && Membership.peer(hb.getRegion(), oldPeer) == null);
    await().atMost(20, TimeUnit.SECONDS).until(() -> c.pd.stepsDone(rid));

    Region moved = sameMetaOnReplicas(c, rid, 1, 2, 4);
    assertThat(moved.getPeersList()).extracting(Peer::getStoreId)
        .containsExactlyInAnyOrder(c.stores.get(1).storeId(), c.stores.get(2).storeId(), store4);
    assertThat(moved.getPeersList()).allMatch(p -> p.getRole() == PeerRole.PEER_ROLE_VOTER);
    // add learner +1, joint (2 changes) +2, leave +1
    assertThat(moved.getEpoch().getConfVer()).isEqualTo(region.getEpoch().getConfVer() + 4);

    // Store 3: tombstoned with its peer id, group gone, no data of the range left.
    Store s3 = c.stores.get(3);
    await().atMost(15, TimeUnit.SECONDS).until(() -> s3.tombstonedPeer(rid) == oldPeer);
    assertThat(s3.peer(rid)).isNull();
    assertThat(s3.regions()).isEmpty();
    assertThat(s3.driver().info(rid)).isNull();
    assertThat(s3.node().storage().hasGroup(rid)).isFalse();
    assertThat(StoreTest.dataKeys(s3)).isEmpty();

    stop.set(true);
    writer.join(30_000);
    assertThat(writerFailed.get()).isNull();
    assertThat(acked.size()).isGreaterThan(20);
    for (Map.Entry<String, String> e : acked.entrySet()) {
      assertThat(c.get(e.getKey()).getValue().toStringUtf8()).as(e.getKey()).isEqualTo(e.getValue());
    }
    // Store 4 holds everything acknowledged.
    await().atMost(10, TimeUnit.SECONDS).until(() -> StoreTest.dataKeys(c.stores.get(4)).containsAll(acked.keySet()));

    // An admin command with the conf_ver from before the move gets EpochNotMatch.
    Store leader = c.leaderOf(rid);
    RegionEpoch stale = moved.getEpoch().toBuilder().setConfVer(region.getEpoch().getConfVer()).build();
    AdminResponse res = leader.driver().propose(rid, RaftCommand.newBuilder()
        .setContext(RequestContext.newBuilder().setRegionId(rid).setEpoch(stale))
        .setAdmin(AdminRequest.newBuilder().setSplit(SplitRequest.newBuilder()
            .setSplitKey(ByteString.copyFromUtf8("k-00010")).setNewRegionId(c.pd.nextId.getAndIncrement())
            .addNewPeerIds(1001).addNewPeerIds(1002).addNewPeerIds(1003)))
        .build().toByteArray(), AdminResponse.class).get(10, TimeUnit.SECONDS);
    assertThat(res.getError().hasEpochNotMatch()).isTrue();

    // Store heartbeats carry counts and sizes.
    await().atMost(10, TimeUnit.SECONDS).until(() -> c.pd.storeHeartbeats.stream().anyMatch(
        h -> h.getStoreId() == store4 && h.getRegionCount() == 1 && h.getUsedBytes() > 0 && h.getCapacityBytes() > 0));

    // The meta survives a restart of every remaining replica's store.
    c.stop(1);
    c.start(1);
    c.stop(4);
    Store back4 = c.start(4);
    assertThat(back4.peer(rid).region()).isEqualTo(moved);
    assertThat(sameMetaOnReplicas(c, rid, 1, 2, 4)).isEqualTo(moved);
    assertThat(c.get("k-00000").getValue().toStringUtf8()).isEqualTo("v0");
  }

  // ------------------------------------------------------------------ removed while down

  @Test
  void aPeerRemovedWhileItsStoreWasDownIsCollectedAfterRestartAndNeverCampaigns() {
    cluster = new StoreCluster(dir, 4, cfg -> cfg);
    StoreCluster c = cluster;
    Region region = firstRegionOnStores(c, 1, 2, 3);
    long rid = region.getId();
    for (int i = 0; i < 10; i++) {
      assertThat(c.put("key-" + i, "v").getSucceeded()).isTrue();
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> StoreTest.dataKeys(c.stores.get(3)).size() == 10);
    long store3 = c.stores.get(3).storeId();
    long oldPeer = peerOnStore(region, store3).getId();
    long newPeer = c.pd.nextId.getAndIncrement();
    long store4 = c.stores.get(4).storeId();
    c.stop(3);

    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER, newPeer, store4))),
        hb -> hasRole(hb.getRegion(), newPeer, PeerRole.PEER_ROLE_LEARNER) && !pending(hb, newPeer));
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_VOTER, newPeer, store4))
        .addChanges(change(PeerChangeType.PEER_CHANGE_REMOVE, oldPeer, store3))),
        hb -> !Membership.isJoint(hb.getRegion()) && Membership.peer(hb.getRegion(), oldPeer) == null);
    await().atMost(20, TimeUnit.SECONDS).until(() -> c.pd.stepsDone(rid));
    Region moved = sameMetaOnReplicas(c, rid, 1, 2, 4);
    await().atMost(10, TimeUnit.SECONDS).until(() -> c.pd.regions.get(rid).equals(moved));
    Store leader = c.leaderOf(rid);
    long term = leader.driver().info(rid).term();

    Store s3 = c.start(3);
    List<StateType> roles = new ArrayList<>();
    await().atMost(15, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(5)).until(() -> {
      RaftDriver.GroupInfo info = s3.driver().info(rid);
      if (info != null) {
        roles.add(info.role());
      }
      return s3.tombstonedPeer(rid) == oldPeer;
    });
    assertThat(roles).doesNotContain(StateType.LEADER, StateType.CANDIDATE);
    assertThat(s3.peer(rid)).isNull();
    assertThat(s3.node().storage().hasGroup(rid)).isFalse();
    assertThat(StoreTest.dataKeys(s3)).isEmpty();
    // The live replicas never saw an election caused by it.
    assertThat(c.leaderOf(rid).driver().info(rid).term()).isEqualTo(term);

    // A message for the tombstoned peer (or an older one) is dropped; one for a newer peer id of
    // the region creates a fresh uninitialized replica.
    long leaderStore = c.leaderOf(rid).storeId();
    long leaderPeer = c.leaderOf(rid).peer(rid).peerId();
    s3.node().deliverInbound(leaderStore, rid, heartbeat(leaderPeer, oldPeer, term));
    s3.node().deliverInbound(leaderStore, rid, heartbeat(leaderPeer, oldPeer - 1, term));
    assertThat(s3.peer(rid)).isNull();
    s3.control().drained().join();
    assertThat(s3.peer(rid)).isNull();
    long readded = c.pd.nextId.getAndIncrement();
    s3.node().deliverInbound(leaderStore, rid, heartbeat(leaderPeer, readded, term));
    s3.control().drained().join();
    RegionPeer fresh = s3.peer(rid);
    assertThat(fresh).isNotNull();
    assertThat(fresh.peerId()).isEqualTo(readded);
    assertThat(fresh.initialized()).isFalse();
    assertThat(s3.tombstonedPeer(rid)).isZero();
  }

  @Test
  void aReplicaRemovedByAConfChangeStaysTombstonedAcrossRestartsAndDropsOldMessages() {
    cluster = new StoreCluster(dir, 4, cfg -> cfg);
    StoreCluster c = cluster;
    Region region = firstRegionOnStores(c, 1, 2, 3);
    long rid = region.getId();
    assertThat(c.put("key-0", "v").getSucceeded()).isTrue();
    Store s3 = c.stores.get(3);
    long store3 = s3.storeId();
    long oldPeer = peerOnStore(region, store3).getId();
    long newPeer = c.pd.nextId.getAndIncrement();
    long store4 = c.stores.get(4).storeId();
    if (c.leaderOf(rid) == s3) {
      s3.driver().transferLeader(rid, peerOnStore(region, c.stores.get(1).storeId()).getId());
      await().atMost(10, TimeUnit.SECONDS).until(() -> c.stores.get(1).isLeader(rid));
    }

    // Store 3 is up and applies its own removal: the conf change path (not garbage collection).
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER, newPeer, store4))),
        hb -> hasRole(hb.getRegion(), newPeer, PeerRole.PEER_ROLE_LEARNER) && !pending(hb, newPeer));
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_VOTER, newPeer, store4))
        .addChanges(change(PeerChangeType.PEER_CHANGE_REMOVE, oldPeer, store3))),
        hb -> !Membership.isJoint(hb.getRegion()) && Membership.peer(hb.getRegion(), oldPeer) == null);
    await().atMost(20, TimeUnit.SECONDS).until(() -> c.pd.stepsDone(rid));
    await().atMost(15, TimeUnit.SECONDS).until(() -> s3.tombstonedPeer(rid) == oldPeer);
    RegionEpoch removedAt = s3.tombstonedEpoch(rid);
    assertThat(removedAt.getConfVer()).isGreaterThan(region.getEpoch().getConfVer());

    for (int round = 1; round <= 2; round++) {
      c.stop(3);
      Store back = c.start(3);
      assertThat(back.tombstonedPeer(rid)).as("tombstone after restart %d", round).isEqualTo(oldPeer);
      assertThat(back.tombstonedEpoch(rid)).isEqualTo(removedAt);
      assertThat(back.peer(rid)).isNull();
      assertThat(back.node().storage().hasGroup(rid)).isFalse();

      // Old messages of the region, to the removed peer or an older one: all dropped, nothing created.
      Store leader = c.leaderOf(rid);
      long leaderPeer = leader.peer(rid).peerId();
      long term = leader.driver().info(rid).term();
      for (MessageType type : List.of(MessageType.HEARTBEAT, MessageType.APP, MessageType.VOTE,
          MessageType.PRE_VOTE)) {
        back.node().deliverInbound(leader.storeId(), rid, Message.builder(type).from(leaderPeer).to(oldPeer)
            .term(term + 1).build());
        back.node().deliverInbound(leader.storeId(), rid, Message.builder(type).from(leaderPeer).to(oldPeer - 1)
            .term(term).build());
      }
      back.control().drained().join();
      assertThat(back.peer(rid)).isNull();
      assertThat(back.driver().info(rid)).isNull();
      assertThat(back.node().storage().hasGroup(rid)).isFalse();
      assertThat(leader.driver().info(rid).term()).as("the live replicas saw no election").isEqualTo(term);
    }
  }

  /**
   * A vote that looks like a new split's first election (its candidate's log ends at the split's
   * initial index) reaching a store with regions is parked, not turned into an uninitialized replica
   * that would need a snapshot; if no split claims it within 2 s, the candidate's next vote creates
   * the replica as before (it was not a split's). The replay to the split's replica is checked by
   * StoreSplitSnapshotTest (every new region is led by its parent's leader).
   */
  @Test
  void aVoteThatLooksLikeANewSplitsIsParkedAndCreatesTheReplicaOnlyIfNoSplitClaimsIt() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg);
    StoreCluster c = cluster;
    Region region = firstRegionOnStores(c, 1, 2, 3);
    Store s2 = c.stores.get(2);
    long rid = c.pd.nextId.getAndIncrement();
    long peer = c.pd.nextId.getAndIncrement();
    Message vote = Message.builder(MessageType.PRE_VOTE).from(peerOnStore(region, c.stores.get(1).storeId()).getId())
        .to(peer).term(SplitApplier.INIT_TERM + 1).logTerm(SplitApplier.INIT_TERM).index(SplitApplier.INIT_INDEX)
        .build();

    long firstVote = System.nanoTime();
    s2.node().deliverInbound(c.stores.get(1).storeId(), rid, vote);
    s2.control().drained().join();
    assertThat(s2.peer(rid)).as("parked, not created").isNull();
    assertThat(s2.node().storage().hasGroup(rid)).isFalse();

    await().atMost(10, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(100)).until(() -> {
      s2.node().deliverInbound(c.stores.get(1).storeId(), rid, vote);
      s2.control().drained().join();
      return s2.peer(rid) != null;
    });
    assertThat(System.nanoTime() - firstVote).as("created only after the parking time")
        .isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
    assertThat(s2.peer(rid).initialized()).isFalse();
  }

  /**
   * A snapshot is stepped only if its range overlaps no region initialized on the store and no
   * other snapshot accepted there and not restored yet: two overlapping snapshots restored in
   * either order would have the later one's range delete wipe what the other ingested (TiKV's
   * pending snapshot regions).
   */
  @Test
  void aSnapshotOverlappingARegionHereOrAPendingSnapshotIsNotStepped() {
    cluster = new StoreCluster(dir, 4, cfg -> cfg);
    StoreCluster c = cluster;
    firstRegionOnStores(c, 1, 2, 3);
    Store s4 = c.stores.get(4);
    Store s1 = c.stores.get(1);
    long from = c.stores.get(2).storeId();
    long a = c.pd.nextId.getAndIncrement();
    long b = c.pd.nextId.getAndIncrement();
    long pa = c.pd.nextId.getAndIncrement();
    long pb = c.pd.nextId.getAndIncrement();
    for (Store s : List.of(s4, s1)) {
      for (long[] rp : new long[][] {{a, pa}, {b, pb}}) {
        s.node().deliverInbound(from, rp[0], Message.builder(MessageType.HEARTBEAT).from(999).to(rp[1]).term(6).build());
      }
      s.control().drained().join();
      assertThat(s.peer(a)).isNotNull();
      assertThat(s.peer(b)).isNotNull();
    }

    assertThat(s4.control().accept(from, a, snapshotTo(a, pa, s4, "k1", "k3"))).as("nothing overlaps").isTrue();
    assertThat(s4.control().accept(from, b, snapshotTo(b, pb, s4, "k2", "k4")))
        .as("overlaps the pending snapshot of region a").isFalse();
    assertThat(s4.control().accept(from, b, snapshotTo(b, pb, s4, "k3", "k4"))).as("adjacent, no overlap").isTrue();
    s4.control().snapshotRestored(b);
    assertThat(s4.control().accept(from, a, snapshotTo(a, pa, s4, "k1", "k3"))).as("its own pending snapshot").isTrue();
    s4.control().snapshotRestored(a);
    assertThat(s4.control().accept(from, b, snapshotTo(b, pb, s4, "k2", "k4"))).as("a restored: no longer pending")
        .isTrue();

    assertThat(s1.control().accept(from, a, snapshotTo(a, pa, s1, "k1", "k3")))
        .as("overlaps the first region, initialized on store 1").isFalse();
  }

  private static Message snapshotTo(long regionId, long peerId, Store store, String start, String end) {
    Region region = Region.newBuilder().setId(regionId)
        .setStartKey(ByteString.copyFromUtf8(start)).setEndKey(ByteString.copyFromUtf8(end))
        .setEpoch(RegionEpoch.newBuilder().setVersion(2).setConfVer(1))
        .addPeers(Peer.newBuilder().setId(peerId).setStoreId(store.storeId())).build();
    SnapshotMetadata meta = new SnapshotMetadata(
        new io.flotilla.engine.raft.ConfState(List.of(peerId), List.of(), List.of(), List.of(), false), 10, 6);
    byte[] data = new SnapshotData(meta, region, Map.of(), "", 0).encode();
    return Message.builder(MessageType.SNAPSHOT).from(999).to(peerId).term(6)
        .snapshot(new io.flotilla.engine.raft.Snapshot(data, meta)).build();
  }

  // ------------------------------------------------------------------ down peers

  /**
   * The leader reports as down the peer of a store its store no longer hears from (node-level
   * liveness), and stops once it hears from it again. PD hands a leader transfer only to a voter
   * that is neither pending nor down: when no down peer was ever reported, a move off the leader
   * handed out a transfer to a voter on a killed store until the operator timed out (10 minutes).
   */
  @Test
  void aLeaderReportsThePeerOfAStoreItNoLongerHearsFromAsDownUntilItIsBack() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg);
    StoreCluster c = cluster;
    Region region = firstRegionOnStores(c, 1, 2, 3);
    long rid = region.getId();
    Store leader = c.leaderOf(rid);
    int victim = c.stores.entrySet().stream().filter(e -> e.getValue() != leader).findFirst().orElseThrow().getKey();
    long victimPeer = peerOnStore(region, c.stores.get(victim).storeId()).getId();
    await().atMost(10, TimeUnit.SECONDS).until(() -> lastDownPeers(c, rid, leader), d -> d != null && d.isEmpty());

    c.stop(victim);
    await().atMost(10, TimeUnit.SECONDS).until(() -> lastDownPeers(c, rid, leader), d -> List.of(victimPeer).equals(d));
    assertThat(leader.isLeader(rid)).isTrue();

    c.start(victim);
    await().atMost(15, TimeUnit.SECONDS).until(() -> lastDownPeers(c, rid, leader), d -> d != null && d.isEmpty());
  }

  // ------------------------------------------------------------------ leader transfer and split

  @Test
  void aTransferLeaderStepMovesLeadershipAndTheNewLeaderReportsAtOnce() {
    // Heartbeats every 60 s: only the new leader's immediate heartbeat can tell PD in time.
    cluster = new StoreCluster(dir, 3, cfg -> cfg.withHeartbeats(Duration.ofSeconds(60), Duration.ofSeconds(60)));
    StoreCluster c = cluster;
    Region region = firstRegionOnStores(c, 1, 2, 3);
    long rid = region.getId();
    Store leader = c.leaderOf(rid);
    Store target = c.stores.values().stream().filter(s -> s != leader).findFirst().orElseThrow();
    Peer to = peerOnStore(region, target.storeId());
    // The bootstrapping leader reported at once too.
    await().atMost(10, TimeUnit.SECONDS).until(() -> heartbeatFrom(c, rid, leader.storeId()));
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setTransferLeader(TransferLeaderStep.newBuilder()
        .setPeer(to)), hb -> hb.getLeader().getId() == to.getId());
    // Trigger one heartbeat of the current leader (as the periodic one would).
    leader.peer(rid).takeWritten();
    c.pd.regionHeartbeats.clear();
    leaderTasksHeartbeat(leader, rid);
    await().atMost(10, TimeUnit.SECONDS).until(() -> target.isLeader(rid));
    await().atMost(5, TimeUnit.SECONDS).until(() -> heartbeatFrom(c, rid, target.storeId()) && c.pd.stepsDone(rid));
  }

  @Test
  void aSplitStepSplitsAtTheGivenKeyOnEveryReplica() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg);
    StoreCluster c = cluster;
    Region region = firstRegionOnStores(c, 1, 2, 3);
    long rid = region.getId();
    for (int i = 0; i < 20; i++) {
      assertThat(c.put(String.format("key-%03d", i), "v").getSucceeded()).isTrue();
    }
    ByteString at = ByteString.copyFromUtf8("key-007");
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setSplitRegion(SplitRegionStep.newBuilder()
        .setSplitKey(at)), hb -> hb.getRegion().getEndKey().equals(at));
    await().atMost(15, TimeUnit.SECONDS).until(() -> c.pd.stepsDone(rid) && c.stores.values().stream()
        .allMatch(s -> s.regions().size() == 2));
    for (Store s : c.stores.values()) {
      List<Region> rs = s.regions();
      Region left = rs.stream().filter(r -> r.getId() == rid).findFirst().orElseThrow();
      Region right = rs.stream().filter(r -> r.getId() != rid).findFirst().orElseThrow();
      assertThat(left.getEndKey()).isEqualTo(at);
      assertThat(right.getStartKey()).isEqualTo(at);
      assertThat(left.getEpoch().getVersion()).isEqualTo(region.getEpoch().getVersion() + 1);
    }
    assertThat(c.pd.splitReports).anyMatch(r -> r[0].getEndKey().equals(at));
    assertThat(c.get("key-007").getValue().toStringUtf8()).isEqualTo("v");
    assertThat(c.get("key-006").getValue().toStringUtf8()).isEqualTo("v");
  }

  @Test
  void snapshotsBeingReceivedAreCountedUntilCompleteOrAborted() {
    SnapshotAssembler a = new SnapshotAssembler((from, group, m) -> true);
    var first = a.begin(1, 7, 1, null);
    var second = a.begin(1, 8, 2, null);
    assertThat(a.receiving()).isEqualTo(2);
    first.onComplete();
    first.onAbort(new RuntimeException("late abort after complete"));
    assertThat(a.receiving()).isEqualTo(1);
    second.onAbort(new RuntimeException("lane closed"));
    assertThat(a.receiving()).isZero();
  }

  // ------------------------------------------------------------------ helpers

  private static PeerChange change(PeerChangeType type, long peerId, long storeId) {
    return PeerChange.newBuilder().setType(type).setPeer(Peer.newBuilder().setId(peerId).setStoreId(storeId)).build();
  }

  private static boolean hasRole(Region r, long peerId, PeerRole role) {
    Peer p = Membership.peer(r, peerId);
    return p != null && p.getRole() == role;
  }

  private static boolean pending(RegionHeartbeatRequest hb, long peerId) {
    return hb.getPendingPeersList().stream().anyMatch(p -> p.getId() == peerId);
  }

  private static Peer peerOnStore(Region r, long storeId) {
    return r.getPeersList().stream().filter(p -> p.getStoreId() == storeId).findFirst().orElseThrow();
  }

  private static Message heartbeat(long from, long to, long term) {
    return Message.builder(MessageType.HEARTBEAT).from(from).to(to).term(term).build();
  }

  private static boolean heartbeatFrom(StoreCluster c, long rid, long storeId) {
    return c.pd.regionHeartbeats.stream()
        .anyMatch(hb -> hb.getRegion().getId() == rid && hb.getLeader().getStoreId() == storeId);
  }

  /** The down peers in the last heartbeat of region {@code rid} from {@code leader}'s store (null if none yet). */
  private static List<Long> lastDownPeers(StoreCluster c, long rid, Store leader) {
    RegionHeartbeatRequest last = null;
    for (RegionHeartbeatRequest hb : c.pd.regionHeartbeats) {
      if (hb.getRegion().getId() == rid && hb.getLeader().getStoreId() == leader.storeId()) {
        last = hb;
      }
    }
    return last == null ? null : last.getDownPeersList().stream().map(Peer::getId).toList();
  }

  private static void leaderTasksHeartbeat(Store leader, long rid) {
    leader.regionHeartbeatNow(rid);
  }

  /** Waits for the first region to be initialized on the given stores (by index) and led. */
  private static Region firstRegionOnStores(StoreCluster c, int... idx) {
    await().atMost(20, TimeUnit.SECONDS).until(() -> {
      for (int i : idx) {
        if (c.stores.get(i).regions().size() != 1) {
          return false;
        }
      }
      return c.leaderForNow(new byte[0]) != null;
    });
    return c.stores.get(idx[0]).regions().get(0);
  }

  /** Waits until the region's meta is the same on the given stores and returns it. */
  private static Region sameMetaOnReplicas(StoreCluster c, long rid, int... idx) {
    AtomicReference<Region> seen = new AtomicReference<>();
    await().atMost(15, TimeUnit.SECONDS).until(() -> {
      Region first = null;
      for (int i : idx) {
        RegionPeer p = c.stores.get(i).peer(rid);
        Region r = p == null ? null : p.region();
        if (r == null || (first != null && !first.equals(r))) {
          return false;
        }
        first = r;
      }
      seen.set(first);
      return true;
    });
    return seen.get();
  }
}
