package io.flotilla.pd.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.pd.operator.Operator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The replica checker against a simulated cluster whose stores carry out steps at once. */
class ReplicaCheckerTest {
  SimCluster sim;

  @BeforeEach
  void cluster() {
    sim = new SimCluster();
    for (long s = 1; s <= 4; s++) {
      sim.addStore(s);
    }
    sim.coordinator.set(BalanceLeaderScheduler.NAME, java.util.Optional.of(false), Map.of());
    sim.coordinator.set(BalanceRegionScheduler.NAME, java.util.Optional.of(false), Map.of());
    sim.coordinator.set(ReplicaChecker.NAME, java.util.Optional.empty(), Map.of("max-store-down-time", "10s"));
  }

  @Test
  void aVoterOnAStoreDownLongerThanTheDownTimeMovesToTheBestStore() {
    for (long id = 1; id <= 6; id++) {
      sim.addRegion(id, "k" + id, "k" + (id + 1), 1, 2, 3);
    }
    sim.nowMs += 9_000;
    sim.heartbeatStores(3);
    assertThat(sim.round()).as("store 3 silent for 9 s: not down yet").isEmpty();

    sim.nowMs += 2_000;
    sim.heartbeatStores(3);
    List<Operator> ops = sim.round();
    assertThat(ops).hasSize(4).allSatisfy(op -> {
      assertThat(op.kind()).isEqualTo(OperatorKind.OPERATOR_KIND_MOVE_PEER);
      assertThat(op.description()).contains("from store 3 to store 4").contains("store 3 is down");
    });
    sim.heartbeatRegions();
    // The snapshot limit (4 receiving on store 4) held the last two back; they follow.
    sim.nowMs += 1_000;
    sim.heartbeatStores(3);
    assertThat(sim.round()).hasSize(2);
    sim.heartbeatRegions();
    for (Region r : sim.regions.values()) {
      assertThat(r.getPeersList()).extracting(Peer::getStoreId).containsExactlyInAnyOrder(1L, 2L, 4L);
      assertThat(r.getPeersList()).extracting(Peer::getRole).containsOnly(PeerRole.PEER_ROLE_VOTER);
    }
    assertThat(sim.controller.running()).isEmpty();
  }

  @Test
  void aMissingVoterIsAddedAndAnExtraOneRemoved() {
    sim.addRegion(1, "a", "b", 1, 2);
    sim.addRegion(2, "b", "c", 1, 2, 3, 4);
    sim.settle(5);
    assertThat(sim.regions.get(1L).getPeersList()).hasSize(3);
    assertThat(sim.regions.get(2L).getPeersList()).hasSize(3);
    assertThat(sim.regions.get(2L).getPeersList()).extracting(Peer::getId).contains(sim.leaders.get(2L).getId());
  }

  @Test
  void aRegionLeftInAJointConfigurationIsLedOutAndAStrayLearnerRemoved() {
    Region r = sim.addRegion(1, "a", "b", 1, 2, 3);
    sim.regions.put(1L, r.toBuilder()
        .setPeers(2, r.getPeers(2).toBuilder().setRole(PeerRole.PEER_ROLE_DEMOTING_VOTER))
        .addPeers(Peer.newBuilder().setId(99).setStoreId(4).setRole(PeerRole.PEER_ROLE_INCOMING_VOTER))
        .build());
    List<Operator> ops = sim.round();
    assertThat(ops).singleElement().satisfies(op -> assertThat(op.steps().get(0).describe()).isEqualTo("leave joint"));
    sim.heartbeatRegions();
    // Now peer 99 on store 4 votes and the old peer on store 3 is a learner nobody promotes.
    ops = sim.round();
    assertThat(ops).singleElement().satisfies(op -> assertThat(op.description()).contains("remove peer")
        .contains("store 3"));
    sim.heartbeatRegions();
    assertThat(sim.regions.get(1L).getPeersList()).extracting(Peer::getStoreId).containsExactlyInAnyOrder(1L, 2L, 4L);
  }

  /**
   * A move that went stale after adding its learner (its region split) leaves a caught-up learner on
   * the only store a replica could go to; then a voter's store goes down. The checker used to find
   * no target store (the learner's store holds a peer of the region) and, with no extra voter,
   * did nothing: the region kept its voter on the down store for good (ClusterProcessCrashTest).
   * Now the learner takes the down voter's place.
   */
  @Test
  void aStrayLearnerOnTheOnlyFreeStoreReplacesAVoterOnADownStore() {
    Region r = sim.addRegion(1, "a", "b", 1, 2, 3);
    sim.regions.put(1L, r.toBuilder()
        .addPeers(Peer.newBuilder().setId(99).setStoreId(4).setRole(PeerRole.PEER_ROLE_LEARNER)).build());
    sim.nowMs += 11_000;
    sim.heartbeatStores(3);
    List<Operator> ops = sim.round();
    assertThat(ops).singleElement().satisfies(op -> {
      assertThat(op.kind()).isEqualTo(OperatorKind.OPERATOR_KIND_MOVE_PEER);
      assertThat(op.description()).contains("from store 3 to store 4").contains("store 3 is down");
    });
    sim.heartbeatRegions();
    Region after = sim.regions.get(1L);
    assertThat(after.getPeersList()).extracting(Peer::getStoreId).containsExactlyInAnyOrder(1L, 2L, 4L);
    assertThat(after.getPeersList()).extracting(Peer::getRole).containsOnly(PeerRole.PEER_ROLE_VOTER);
    assertThat(after.getPeersList()).extracting(Peer::getId).contains(99L);
    assertThat(sim.controller.running()).isEmpty();
  }

  /** The same with a voter missing: the learner is promoted rather than left in the way. */
  @Test
  void aStrayLearnerOnTheOnlyFreeStoreBecomesTheMissingVoter() {
    Region r = sim.addRegion(1, "a", "b", 1, 2);
    sim.regions.put(1L, r.toBuilder()
        .addPeers(Peer.newBuilder().setId(99).setStoreId(3).setRole(PeerRole.PEER_ROLE_LEARNER)).build());
    sim.setState(4, StoreState.STORE_STATE_OFFLINE);
    assertThat(sim.round()).singleElement().satisfies(
        op -> assertThat(op.kind()).isEqualTo(OperatorKind.OPERATOR_KIND_ADD_PEER));
    sim.heartbeatRegions();
    Region after = sim.regions.get(1L);
    assertThat(after.getPeersList()).extracting(Peer::getStoreId).containsExactlyInAnyOrder(1L, 2L, 3L);
    assertThat(after.getPeersList()).extracting(Peer::getRole).containsOnly(PeerRole.PEER_ROLE_VOTER);
    assertThat(after.getPeersList()).extracting(Peer::getId).contains(99L);
  }

  @Test
  void anOfflineStoreIsDrainedThenMarkedTombstone() {
    for (long id = 1; id <= 8; id++) {
      sim.addRegion(id, "k" + id, "k" + (id + 1), 3, 1, 2); // store 3 leads every region
    }
    sim.setState(3, StoreState.STORE_STATE_OFFLINE);
    sim.settle(10);
    assertThat(sim.regionCounts()).containsEntry(3L, 0).containsEntry(4L, 8);
    assertThat(sim.leaderCounts()).containsEntry(3L, 0);
    sim.round();
    assertThat(sim.stores.get(3L).getState()).isEqualTo(StoreState.STORE_STATE_TOMBSTONE);
  }

  @Test
  void noTargetStoreMeansNoOperator() {
    sim.addRegion(1, "a", "b", 1, 2, 3);
    sim.addRegion(2, "b", "c", 1, 2, 4);
    sim.setState(4, StoreState.STORE_STATE_OFFLINE);
    sim.setState(3, StoreState.STORE_STATE_OFFLINE);
    assertThat(sim.round()).isEmpty();
  }
}
