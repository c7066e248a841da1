package io.flotilla.pd.operator;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChange;
import io.flotilla.engine.proto.PeerChangeType;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.SplitRegionStep;
import io.flotilla.engine.proto.TransferLeaderStep;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One step of an {@link Operator}. PD hands a step to the region's leader and considers it done
 * only when a later report of the region shows its effect (its peers and roles, its leader, its
 * version); the leader carries a step out idempotently, so handing it out again is harmless.
 *
 * <table>
 *   <caption>When each step is done</caption>
 *   <tr><th>step</th><th>done when the region shows</th><th>impossible (stale) when</th></tr>
 *   <tr><td>AddLearner p</td><td>p present and not pending</td><td>another peer on p's store</td></tr>
 *   <tr><td>PromoteLearner p</td><td>p a voter</td><td>p gone</td></tr>
 *   <tr><td>EnterJoint</td><td>promoted peers incoming or voters, demoted ones demoting, learners or
 *       gone</td><td>a promoted peer gone; another joint configuration</td></tr>
 *   <tr><td>LeaveJoint</td><td>no incoming or demoting peer</td><td>-</td></tr>
 *   <tr><td>TransferLeader p</td><td>p leads</td><td>p gone, not a voter, or reported down</td></tr>
 *   <tr><td>RemovePeer p</td><td>p gone</td><td>-</td></tr>
 *   <tr><td>SplitRegion k</td><td>a version above the operator's, with k a boundary</td><td>the
 *       region split elsewhere</td></tr>
 * </table>
 */
public sealed interface OpStep {
  boolean isDone(RegionView r);

  /** Why the region makes this step impossible, or null. Asked only while the step is not done. */
  default String staleReason(RegionView r) {
    return null;
  }

  /**
   * Sets the step's command for the leader on {@code out}; false when there is nothing to send now
   * (waiting for an effect, e.g. a learner catching up).
   */
  boolean command(RegionView r, RegionHeartbeatResponse.Builder out);

  /** Peers this step demotes or removes: the leader must not be one of them. */
  default Set<Long> leavingPeers() {
    return Set.of();
  }

  /** One line, e.g. "add learner 12 on store 4". */
  String describe();

  private static PeerChange change(PeerChangeType type, Peer peer) {
    return PeerChange.newBuilder().setType(type).setPeer(peer).build();
  }

  /** Adds {@code peer} (a fresh id) as a learner; it catches up by snapshot. */
  record AddLearner(Peer peer) implements OpStep {
    @Override
    public boolean isDone(RegionView r) {
      return r.peer(peer.getId()) != null && !r.pendingPeers().contains(peer.getId());
    }

    @Override
    public String staleReason(RegionView r) {
      Peer other = r.peerOnStore(peer.getStoreId());
      return other != null && other.getId() != peer.getId()
          ? "store " + peer.getStoreId() + " already holds peer " + other.getId() : null;
    }

    @Override
    public boolean command(RegionView r, RegionHeartbeatResponse.Builder out) {
      if (r.peer(peer.getId()) != null) {
        return false; // added, catching up: wait
      }
      Peer learner = peer.toBuilder().setRole(PeerRole.PEER_ROLE_LEARNER).build();
      out.setChangePeers(ChangePeers.newBuilder().addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER, learner)));
      return true;
    }

    @Override
    public String describe() {
      return "add learner " + peer.getId() + " on store " + peer.getStoreId();
    }
  }

  /** Makes a caught-up learner a voter (a simple change). */
  record PromoteLearner(Peer peer) implements OpStep {
    @Override
    public boolean isDone(RegionView r) {
      Peer p = r.peer(peer.getId());
      return p != null && p.getRole() == PeerRole.PEER_ROLE_VOTER;
    }

    @Override
    public String staleReason(RegionView r) {
      return r.peer(peer.getId()) == null ? "peer " + peer.getId() + " is gone" : null;
    }

    @Override
    public boolean command(RegionView r, RegionHeartbeatResponse.Builder out) {
      Peer voter = peer.toBuilder().setRole(PeerRole.PEER_ROLE_VOTER).build();
      out.setChangePeers(ChangePeers.newBuilder().addChanges(change(PeerChangeType.PEER_CHANGE_ADD_VOTER, voter)));
      return true;
    }

    @Override
    public String describe() {
      return "promote learner " + peer.getId() + " on store " + peer.getStoreId();
    }
  }

  /** Enters a joint configuration: promotes learners and demotes voters at once. */
  record EnterJoint(List<Peer> promote, List<Peer> demote) implements OpStep {
    public EnterJoint {
      promote = List.copyOf(promote);
      demote = List.copyOf(demote);
    }

    @Override
    public boolean isDone(RegionView r) {
      for (Peer p : promote) {
        Peer now = r.peer(p.getId());
        if (now == null || (now.getRole() != PeerRole.PEER_ROLE_INCOMING_VOTER
            && now.getRole() != PeerRole.PEER_ROLE_VOTER)) {
          return false;
        }
      }
      for (Peer p : demote) {
        Peer now = r.peer(p.getId());
        if (now != null && now.getRole() != PeerRole.PEER_ROLE_DEMOTING_VOTER
            && now.getRole() != PeerRole.PEER_ROLE_LEARNER) {
          return false;
        }
      }
      return true;
    }

    @Override
    public String staleReason(RegionView r) {
      for (Peer p : promote) {
        if (r.peer(p.getId()) == null) {
          return "peer " + p.getId() + " to promote is gone";
        }
      }
      return r.inJoint() ? "the region is in another joint configuration" : null;
    }

    @Override
    public boolean command(RegionView r, RegionHeartbeatResponse.Builder out) {
      ChangePeers.Builder b = ChangePeers.newBuilder();
      for (Peer p : promote) {
        b.addChanges(change(PeerChangeType.PEER_CHANGE_ADD_VOTER, p.toBuilder().setRole(PeerRole.PEER_ROLE_VOTER).build()));
      }
      for (Peer p : demote) {
        b.addChanges(change(PeerChangeType.PEER_CHANGE_ADD_LEARNER,
            p.toBuilder().setRole(PeerRole.PEER_ROLE_LEARNER).build()));
      }
      out.setChangePeers(b);
      return true;
    }

    @Override
    public Set<Long> leavingPeers() {
      return demote.stream().map(Peer::getId).collect(Collectors.toUnmodifiableSet());
    }

    @Override
    public String describe() {
      return "enter joint: promote " + ids(promote) + ", demote " + ids(demote);
    }

    private static String ids(List<Peer> peers) {
      return peers.stream().map(p -> p.getId() + "@store" + p.getStoreId()).collect(Collectors.joining(", ", "[", "]"));
    }
  }

  /** Leaves a joint configuration. */
  record LeaveJoint() implements OpStep {
    @Override
    public boolean isDone(RegionView r) {
      return !r.inJoint();
    }

    @Override
    public boolean command(RegionView r, RegionHeartbeatResponse.Builder out) {
      out.setChangePeers(ChangePeers.newBuilder().setLeaveJoint(true));
      return true;
    }

    @Override
    public String describe() {
      return "leave joint";
    }
  }

  record TransferLeader(Peer to) implements OpStep {
    @Override
    public boolean isDone(RegionView r) {
      return r.isLeader(to.getId());
    }

    @Override
    public String staleReason(RegionView r) {
      Peer p = r.peer(to.getId());
      if (p == null || p.getRole() != PeerRole.PEER_ROLE_VOTER) {
        return "peer " + to.getId() + " is gone or not a voter";
      }
      // NB: its store died after the operator was made; a transfer to it would only stall the
      // region's writes until the timeout, and keep the replica checker from repairing the region.
      return r.downPeers().contains(to.getId())
          ? "peer " + to.getId() + " on store " + to.getStoreId() + " is down (its leader does not hear from it)"
          : null;
    }

    @Override
    public boolean command(RegionView r, RegionHeartbeatResponse.Builder out) {
      out.setTransferLeader(TransferLeaderStep.newBuilder().setPeer(r.peer(to.getId())));
      return true;
    }

    @Override
    public String describe() {
      return "transfer leader to peer " + to.getId() + " on store " + to.getStoreId();
    }
  }

  /** Removes a peer (a learner after a joint swap, or a voter by a simple change). */
  record RemovePeer(Peer peer) implements OpStep {
    @Override
    public boolean isDone(RegionView r) {
      return r.peer(peer.getId()) == null;
    }

    @Override
    public boolean command(RegionView r, RegionHeartbeatResponse.Builder out) {
      out.setChangePeers(ChangePeers.newBuilder().addChanges(change(PeerChangeType.PEER_CHANGE_REMOVE,
          r.peer(peer.getId()))));
      return true;
    }

    @Override
    public Set<Long> leavingPeers() {
      return Set.of(peer.getId());
    }

    @Override
    public String describe() {
      return "remove peer " + peer.getId() + " on store " + peer.getStoreId();
    }
  }

  /** Splits at {@code key}, or in the middle when it is empty. */
  record SplitRegion(ByteString key, long versionBefore) implements OpStep {
    @Override
    public boolean isDone(RegionView r) {
      return r.version() > versionBefore && (key.isEmpty() || isBoundary(r));
    }

    @Override
    public String staleReason(RegionView r) {
      return r.version() > versionBefore && !isDone(r)
          ? "the region changed range (version " + versionBefore + " -> " + r.version() + ") without a split at the key"
          : null;
    }

    private boolean isBoundary(RegionView r) {
      return r.region().getEndKey().equals(key) || r.region().getStartKey().equals(key);
    }

    @Override
    public boolean command(RegionView r, RegionHeartbeatResponse.Builder out) {
      out.setSplitRegion(SplitRegionStep.newBuilder().setSplitKey(key));
      return true;
    }

    @Override
    public String describe() {
      return key.isEmpty() ? "split in the middle" : "split at key " + Keys.toString(key);
    }
  }
}
