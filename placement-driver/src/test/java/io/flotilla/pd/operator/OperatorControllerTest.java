package io.flotilla.pd.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.OperatorState;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChangeType;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Operators advance only when a region report shows a step's effect. */
class OperatorControllerTest {
  static final long T0 = 1_000_000;
  final OperatorSettings settings = new OperatorSettings();
  final OperatorController controller = new OperatorController(settings);

  static Peer peer(long id, long store, PeerRole role) {
    return Peer.newBuilder().setId(id).setStoreId(store).setRole(role).build();
  }

  static Peer voter(long id, long store) {
    return peer(id, store, PeerRole.PEER_ROLE_VOTER);
  }

  static Region region(long version, long confVer, Peer... peers) {
    return Region.newBuilder().setId(7).setStartKey(ByteString.copyFromUtf8("a")).setEndKey(ByteString.copyFromUtf8("z"))
        .setEpoch(RegionEpoch.newBuilder().setVersion(version).setConfVer(confVer)).addAllPeers(List.of(peers)).build();
  }

  static RegionView view(Region r, Peer leader, Long... pending) {
    return new RegionView(r, leader, Set.of(pending), Set.of(), 0);
  }

  Operators.Meta meta(long id) {
    return new Operators.Meta(id, "test", T0, 60_000);
  }

  @Test
  void aMoveHandsOutItsStepsInOrderAndAdvancesOnlyOnTheirEffect() {
    Peer p1 = voter(11, 1);
    Peer p2 = voter(12, 2);
    Peer p3 = voter(13, 3);
    RegionView start = view(region(1, 1, p1, p2, p3), p1);
    Operator op = Operators.movePeer(meta(100), start, p3, 4, 14, "");
    assertThat(controller.add(op, OperatorController.ReportedSnapshots.NONE)).isNull();

    // 1. add learner 14 on store 4, again and again until it shows up
    RegionHeartbeatResponse s = controller.dispatch(start, T0 + 1);
    assertThat(s.getOperatorId()).isEqualTo(100);
    assertThat(s.getChangePeers().getChanges(0).getType()).isEqualTo(PeerChangeType.PEER_CHANGE_ADD_LEARNER);
    assertThat(s.getChangePeers().getChanges(0).getPeer()).isEqualTo(peer(14, 4, PeerRole.PEER_ROLE_LEARNER));
    assertThat(controller.dispatch(start, T0 + 2)).isEqualTo(s);

    // 2. present but pending: nothing to do, wait
    Peer learner = peer(14, 4, PeerRole.PEER_ROLE_LEARNER);
    Region added = region(1, 2, p1, p2, p3, learner);
    assertThat(controller.dispatch(view(added, p1, 14L), T0 + 3).hasChangePeers()).isFalse();
    assertThat(op.currentStep()).isZero();

    // 3. caught up: enter joint, promoting 14 and demoting 13
    s = controller.dispatch(view(added, p1), T0 + 4);
    assertThat(op.currentStep()).isEqualTo(1);
    assertThat(s.getChangePeers().getChangesList()).extracting(c -> c.getType() + ":" + c.getPeer().getId())
        .containsExactly("PEER_CHANGE_ADD_VOTER:14", "PEER_CHANGE_ADD_LEARNER:13");

    // 4. in joint: leave it
    Region joint = region(1, 4, p1, p2, peer(13, 3, PeerRole.PEER_ROLE_DEMOTING_VOTER),
        peer(14, 4, PeerRole.PEER_ROLE_INCOMING_VOTER));
    s = controller.dispatch(view(joint, p1), T0 + 5);
    assertThat(s.getChangePeers().getLeaveJoint()).isTrue();

    // 5. left: remove 13, now a learner
    Region left = region(1, 5, p1, p2, peer(13, 3, PeerRole.PEER_ROLE_LEARNER), voter(14, 4));
    s = controller.dispatch(view(left, p1), T0 + 6);
    assertThat(s.getChangePeers().getChanges(0).getType()).isEqualTo(PeerChangeType.PEER_CHANGE_REMOVE);
    assertThat(s.getChangePeers().getChanges(0).getPeer().getId()).isEqualTo(13);

    // 6. gone: finished, no step
    s = controller.dispatch(view(region(1, 6, p1, p2, voter(14, 4)), p1), T0 + 7);
    assertThat(s.getOperatorId()).isZero();
    assertThat(op.state()).isEqualTo(OperatorState.OPERATOR_STATE_FINISHED);
    assertThat(controller.list(true)).singleElement()
        .satisfies(i -> assertThat(i.getStepsList()).containsExactly("add learner 14 on store 4",
            "enter joint: promote [14@store4], demote [13@store3]", "leave joint", "remove peer 13 on store 3"));
  }

  @Test
  void theLeaderIsMovedAwayBeforeItIsDemoted() {
    Peer p1 = voter(11, 1);
    Peer p2 = voter(12, 2);
    Peer p3 = voter(13, 3);
    Operator op = Operators.movePeer(meta(100), view(region(1, 1, p1, p2, p3), p1), p1, 4, 14, "");
    controller.add(op, OperatorController.ReportedSnapshots.NONE);
    Region added = region(1, 2, p1, p2, p3, peer(14, 4, PeerRole.PEER_ROLE_LEARNER));
    RegionHeartbeatResponse s = controller.dispatch(view(added, p1), T0 + 1);
    assertThat(s.hasTransferLeader()).isTrue();
    assertThat(s.getTransferLeader().getPeer().getId()).isIn(12L, 13L);
    s = controller.dispatch(view(added, p2), T0 + 2);
    assertThat(s.getChangePeers().getChangesCount()).isEqualTo(2);
  }

  /** The leader transfer that comes first when a step would demote the leader skips a voter reported down. */
  @Test
  void aMoveOffTheLeaderHandsLeadershipToAVoterNotReportedDown() {
    Peer p1 = voter(11, 1);
    Peer p2 = voter(12, 2);
    Peer p3 = voter(13, 3);
    Operator op = Operators.movePeer(meta(100), view(region(1, 1, p1, p2, p3), p2), p2, 4, 14, "");
    assertThat(controller.add(op, OperatorController.ReportedSnapshots.NONE)).isNull();
    Region added = region(1, 2, p1, p2, p3, peer(14, 4, PeerRole.PEER_ROLE_LEARNER));
    RegionHeartbeatResponse s = controller.dispatch(new RegionView(added, p2, Set.of(), Set.of(11L), 0), T0 + 1);
    assertThat(s.getTransferLeader().getPeer().getId()).isEqualTo(13);
  }

  /**
   * A leader transfer to a peer its leader reports down (its store died after the operator was
   * made) is stale at once: it used to be handed out until its timeout (1 minute), each time
   * stalling the region's writes, while the replica checker could not repair the busy region.
   */
  @Test
  void aTransferToAPeerReportedDownIsStale() {
    Peer p1 = voter(11, 1);
    Peer p2 = voter(12, 2);
    Peer p3 = voter(13, 3);
    Region r = region(1, 1, p1, p2, p3);
    Operator op = Operators.transferLeader(meta(5), view(r, p1), p2);
    assertThat(controller.add(op, OperatorController.ReportedSnapshots.NONE)).isNull();
    assertThat(controller.dispatch(view(r, p1), T0 + 1).getTransferLeader().getPeer().getId()).isEqualTo(12);
    assertThat(controller.dispatch(new RegionView(r, p1, Set.of(), Set.of(12L), 0), T0 + 2).getOperatorId()).isZero();
    assertThat(op.state()).isEqualTo(OperatorState.OPERATOR_STATE_STALE);
    assertThat(op.reason()).contains("peer 12 on store 2 is down");
    assertThat(controller.running(7)).isEmpty();
  }

  @Test
  void anOperatorTimesOut() {
    Peer p1 = voter(11, 1);
    Peer p2 = voter(12, 2);
    RegionView r = view(region(1, 1, p1, p2), p1);
    Operator op = Operators.transferLeader(new Operators.Meta(5, "test", T0, 1_000), r, p2);
    controller.add(op, OperatorController.ReportedSnapshots.NONE);
    assertThat(controller.dispatch(r, T0 + 999).hasTransferLeader()).isTrue();
    assertThat(controller.dispatch(r, T0 + 1_000).hasTransferLeader()).isFalse();
    assertThat(op.state()).isEqualTo(OperatorState.OPERATOR_STATE_TIMED_OUT);
    assertThat(op.reason()).contains("transfer leader to peer 12");
  }

  @Test
  void cancelEndsItAndFreesTheRegion() {
    Peer p1 = voter(11, 1);
    RegionView r = view(region(1, 1, p1), p1);
    Operator op = Operators.addPeer(meta(5), r, 2, 20);
    controller.add(op, OperatorController.ReportedSnapshots.NONE);
    assertThat(controller.add(Operators.addPeer(meta(6), r, 3, 21), OperatorController.ReportedSnapshots.NONE))
        .contains("already has");
    assertThat(controller.cancel(0, 7, "test", T0)).contains(op);
    assertThat(op.state()).isEqualTo(OperatorState.OPERATOR_STATE_CANCELLED);
    assertThat(controller.dispatch(r, T0).getOperatorId()).isZero();
    assertThat(controller.cancel(5, 0, "again", T0)).isEmpty();
    assertThat(controller.list(false)).isEmpty();
    assertThat(controller.list(true)).hasSize(1);
  }

  @Test
  void aSplitUnderneathMakesItStale() {
    Peer p1 = voter(11, 1);
    Peer p2 = voter(12, 2);
    Operator op = Operators.addPeer(meta(5), view(region(1, 1, p1, p2), p1), 3, 20);
    controller.add(op, OperatorController.ReportedSnapshots.NONE);
    controller.dispatch(view(region(2, 1, p1, p2), p1), T0);
    assertThat(op.state()).isEqualTo(OperatorState.OPERATOR_STATE_STALE);
    assertThat(op.reason()).contains("version changed from 1 to 2");
  }

  @Test
  void aSplitOperatorFinishesWhenTheKeyBecomesABoundary() {
    Peer p1 = voter(11, 1);
    Operator op = Operators.split(meta(5), view(region(1, 1, p1), p1), ByteString.copyFromUtf8("m"));
    controller.add(op, OperatorController.ReportedSnapshots.NONE);
    RegionView r = view(region(1, 1, p1), p1);
    assertThat(controller.dispatch(r, T0).getSplitRegion().getSplitKey().toStringUtf8()).isEqualTo("m");
    Region left = region(2, 1, p1).toBuilder().setEndKey(ByteString.copyFromUtf8("m")).build();
    controller.dispatch(view(left, p1), T0 + 1);
    assertThat(op.state()).isEqualTo(OperatorState.OPERATOR_STATE_FINISHED);
  }

  @Test
  void aPeerThatVanishesMakesItStale() {
    Peer p1 = voter(11, 1);
    Peer p2 = voter(12, 2);
    Operator op = Operators.addPeer(meta(5), view(region(1, 1, p1, p2), p1), 3, 20);
    controller.add(op, OperatorController.ReportedSnapshots.NONE);
    controller.dispatch(view(region(1, 2, p1, p2, peer(20, 3, PeerRole.PEER_ROLE_LEARNER)), p1), T0);
    controller.dispatch(view(region(1, 3, p1, p2), p1), T0 + 1);
    assertThat(op.state()).isEqualTo(OperatorState.OPERATOR_STATE_STALE);
    assertThat(op.reason()).contains("peer 20 is gone");
  }

  @Test
  void snapshotLimitsPerStoreAreRespected() {
    settings.storeLimitReceive = 2;
    settings.storeLimitSend = 2;
    for (long region = 1; region <= 2; region++) {
      RegionView r = view(region(1, 1, voter(region * 10, 1)).toBuilder().setId(region).build(), voter(region * 10, 1));
      assertThat(controller.add(Operators.addPeer(meta(100 + region), r, 4, 200 + region),
          OperatorController.ReportedSnapshots.NONE)).isNull();
    }
    RegionView third = view(region(1, 1, voter(30, 1)).toBuilder().setId(3).build(), voter(30, 1));
    assertThat(controller.add(Operators.addPeer(meta(103), third, 4, 203), OperatorController.ReportedSnapshots.NONE))
        .contains("store 4 is receiving 2 snapshots (store-limit-receive 2)");
    assertThat(controller.add(Operators.addPeer(meta(104), third, 5, 204), OperatorController.ReportedSnapshots.NONE))
        .contains("store 1 is sending 2 snapshots (store-limit-send 2)");
    assertThat(controller.add(Operators.addPeer(meta(105), third, 6, 205), new OperatorController.ReportedSnapshots() {
      @Override
      public int sending(long storeId) {
        return 0;
      }

      @Override
      public int receiving(long storeId) {
        return storeId == 6 ? 2 : 0;
      }
    })).contains("store 6 is receiving 2");
  }
}
