package io.flotilla.region.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.proto.ChangePeerRequest;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChange;
import io.flotilla.engine.proto.PeerChangeType;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.raft.ConfChange;
import io.flotilla.engine.raft.ConfChangeSingle;
import io.flotilla.engine.raft.ConfState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Planning conf changes from PD steps and deriving region meta from conf states. */
class MembershipTest {
  private static Peer peer(long id, long store, PeerRole role) {
    return Peer.newBuilder().setId(id).setStoreId(store).setRole(role).build();
  }

  private static final Region THREE = Region.newBuilder().setId(5)
      .setEpoch(RegionEpoch.newBuilder().setVersion(3).setConfVer(7))
      .addPeers(peer(11, 1, PeerRole.PEER_ROLE_VOTER)).addPeers(peer(12, 2, PeerRole.PEER_ROLE_VOTER))
      .addPeers(peer(13, 3, PeerRole.PEER_ROLE_VOTER)).build();

  private static PeerChange change(PeerChangeType t, long id, long store) {
    return PeerChange.newBuilder().setType(t).setPeer(Peer.newBuilder().setId(id).setStoreId(store)).build();
  }

  @Test
  void oneChangeIsSimpleAndSeveralEnterAJointConfigLeftAutomatically() {
    Membership.Plan add = Membership.plan(THREE, ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER, 14, 4)).build());
    assertThat(add.change().enterJointAutoLeave()).isNull();
    assertThat(add.change().changes()).containsExactly(new ConfChangeSingle(ConfChangeSingle.Type.ADD_LEARNER, 14));
    assertThat(add.expected().getEpoch().getConfVer()).isEqualTo(8);

    Region withLearner = add.expected();
    Membership.Plan swap = Membership.plan(withLearner, ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_VOTER, 14, 4))
        .addChanges(change(PeerChangeType.PEER_CHANGE_REMOVE, 13, 3)).build());
    assertThat(swap.change().enterJointAutoLeave()).isTrue();
    assertThat(swap.expected().getEpoch().getConfVer()).isEqualTo(10);
    assertThat(Membership.peer(swap.expected(), 14).getRole()).isEqualTo(PeerRole.PEER_ROLE_INCOMING_VOTER);
    assertThat(Membership.peer(swap.expected(), 13).getRole()).isEqualTo(PeerRole.PEER_ROLE_DEMOTING_VOTER);
  }

  @Test
  void aStepAlreadyCarriedOutOrBlockedByAJointConfigPlansNothing() {
    ChangePeers addLearner = ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER, 14, 4)).build();
    Region withLearner = Membership.plan(THREE, addLearner).expected();
    assertThat(Membership.plan(withLearner, addLearner)).isNull();
    assertThat(Membership.plan(THREE, ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_REMOVE, 99, 9)).build())).isNull();
    assertThat(Membership.plan(THREE, ChangePeers.newBuilder().setLeaveJoint(true).build())).isNull();
    Region joint = THREE.toBuilder().setPeers(2, peer(13, 3, PeerRole.PEER_ROLE_DEMOTING_VOTER))
        .addPeers(peer(14, 4, PeerRole.PEER_ROLE_INCOMING_VOTER)).build();
    assertThat(Membership.plan(joint, addLearner)).isNull();
    assertThat(Membership.plan(joint, ChangePeers.newBuilder().setLeaveJoint(true).build()).change().isLeaveJoint())
        .isTrue();
  }

  @Test
  void addingAPeerOnAStoreThatHoldsTheRegionIsRefused() {
    assertThatThrownBy(() -> Membership.plan(THREE, ChangePeers.newBuilder()
        .addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER, 14, 3)).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store 3 already holds peer 13");
  }

  @Test
  void theRegionAfterAChangeFollowsTheConfStateWithStoresFromTheContext() {
    ConfChange cc = new ConfChange(ConfChange.Transition.JOINT_IMPLICIT, List.of(
        new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, 14),
        new ConfChangeSingle(ConfChangeSingle.Type.REMOVE_NODE, 13)), null);
    ConfState joint = new ConfState(List.of(11L, 12L, 14L), List.of(), List.of(11L, 12L, 13L), List.of(), true);
    ChangePeerRequest ctx = ChangePeerRequest.newBuilder().addPeersAfter(peer(14, 4, PeerRole.PEER_ROLE_INCOMING_VOTER))
        .build();
    Region after = Membership.after(THREE, cc, joint, ctx);
    assertThat(after.getPeersList()).containsExactly(peer(11, 1, PeerRole.PEER_ROLE_VOTER),
        peer(12, 2, PeerRole.PEER_ROLE_VOTER), peer(13, 3, PeerRole.PEER_ROLE_DEMOTING_VOTER),
        peer(14, 4, PeerRole.PEER_ROLE_INCOMING_VOTER));
    assertThat(after.getEpoch().getConfVer()).isEqualTo(9);
    assertThat(after.getEpoch().getVersion()).isEqualTo(3);

    ConfState left = new ConfState(List.of(11L, 12L, 14L), List.of(), List.of(), List.of(), false);
    Region done = Membership.after(after, ConfChange.leaveJoint(), left, ChangePeerRequest.getDefaultInstance());
    assertThat(done.getPeersList()).containsExactly(peer(11, 1, PeerRole.PEER_ROLE_VOTER),
        peer(12, 2, PeerRole.PEER_ROLE_VOTER), peer(14, 4, PeerRole.PEER_ROLE_VOTER));
    assertThat(done.getEpoch().getConfVer()).isEqualTo(10);
    // A change the core refused leaves the region as it is (same object, no conf_ver bump).
    assertThat(Membership.after(done, ConfChange.removeNode(77), left, ChangePeerRequest.getDefaultInstance()))
        .isSameAs(done);
  }

  @Test
  void theDataToDeleteSkipsWhatOtherRegionsCover() {
    Region other = Region.newBuilder().setStartKey(com.google.protobuf.ByteString.copyFromUtf8("c"))
        .setEndKey(com.google.protobuf.ByteString.copyFromUtf8("e")).build();
    List<byte[][]> parts = KeyRange.subtract("a".getBytes(), new byte[0], List.of(other));
    assertThat(parts).hasSize(2);
    assertThat(new String(parts.get(0)[0])).isEqualTo("a");
    assertThat(new String(parts.get(0)[1])).isEqualTo("c");
    assertThat(new String(parts.get(1)[0])).isEqualTo("e");
    assertThat(parts.get(1)[1]).isEmpty();
    Region tail = other.toBuilder().setEndKey(com.google.protobuf.ByteString.EMPTY).build();
    assertThat(KeyRange.subtract("d".getBytes(), new byte[0], List.of(tail))).isEmpty();
  }
}
