package io.flotilla.pd.operator;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import java.util.List;

/**
 * Builds operators from what the region looks like now. New peer ids come from PD's allocator
 * (never reused); the caller allocates them, so building never blocks.
 *
 * <p>A move is TiKV's joint-consensus move: add a learner on the target, wait until it caught up
 * (present and not pending), enter a joint configuration that promotes it and demotes the old voter,
 * leave the joint configuration, remove the old peer (now a learner). Whenever the next step would
 * demote or remove the peer that leads, the controller first hands out a leader transfer.
 */
public final class Operators {
  private Operators() {}

  /** What every operator needs besides its steps. */
  public record Meta(long id, String origin, long nowMs, long timeoutMs) {}

  public static Operator transferLeader(Meta m, RegionView r, Peer to) {
    requirePeer(r, to);
    String d = "transfer leader of region " + r.id() + " from store " + r.leaderStore() + " to store "
        + to.getStoreId();
    return new Operator(m.id(), r.id(), OperatorKind.OPERATOR_KIND_TRANSFER_LEADER, m.origin(), d,
        List.of(new OpStep.TransferLeader(to)), r.version(), m.nowMs(), m.timeoutMs(), 0, 0, to.getStoreId(), 0);
  }

  /** Adds a voter on {@code toStore}: learner first, then promotion. */
  public static Operator addPeer(Meta m, RegionView r, long toStore, long newPeerId) {
    Peer p = Peer.newBuilder().setId(newPeerId).setStoreId(toStore).setRole(PeerRole.PEER_ROLE_LEARNER).build();
    String d = "add peer " + newPeerId + " on store " + toStore + " to region " + r.id();
    return new Operator(m.id(), r.id(), OperatorKind.OPERATOR_KIND_ADD_PEER, m.origin(), d,
        List.of(new OpStep.AddLearner(p), new OpStep.PromoteLearner(p)), r.version(), m.nowMs(), m.timeoutMs(),
        toStore, 0, 0, r.leaderStore());
  }

  /** Removes {@code peer} by a simple change (the leader moves away first if it is the one). */
  public static Operator removePeer(Meta m, RegionView r, Peer peer, String why) {
    requirePeer(r, peer);
    String d = "remove peer " + peer.getId() + " on store " + peer.getStoreId() + " from region " + r.id()
        + (why.isEmpty() ? "" : " (" + why + ")");
    return new Operator(m.id(), r.id(), OperatorKind.OPERATOR_KIND_REMOVE_PEER, m.origin(), d,
        List.of(new OpStep.RemovePeer(peer)), r.version(), m.nowMs(), m.timeoutMs(), 0, peer.getStoreId(), 0, 0);
  }

  /** Moves {@code from}'s replica to {@code toStore} as a new peer {@code newPeerId}. */
  public static Operator movePeer(Meta m, RegionView r, Peer from, long toStore, long newPeerId, String why) {
    requirePeer(r, from);
    Peer learner = Peer.newBuilder().setId(newPeerId).setStoreId(toStore).setRole(PeerRole.PEER_ROLE_LEARNER).build();
    List<OpStep> steps = from.getRole() == PeerRole.PEER_ROLE_LEARNER
        ? List.of(new OpStep.AddLearner(learner), new OpStep.RemovePeer(from))
        : List.of(new OpStep.AddLearner(learner), new OpStep.EnterJoint(List.of(learner), List.of(from)),
            new OpStep.LeaveJoint(), new OpStep.RemovePeer(from));
    String d = "move peer of region " + r.id() + " from store " + from.getStoreId() + " to store " + toStore
        + (why.isEmpty() ? "" : " (" + why + ")");
    return new Operator(m.id(), r.id(), OperatorKind.OPERATOR_KIND_MOVE_PEER, m.origin(), d, steps, r.version(),
        m.nowMs(), m.timeoutMs(), toStore, from.getStoreId(), 0, r.leaderStore());
  }

  /** Leads a region out of a joint configuration nobody is finishing (e.g. after a PD leader change). */
  public static Operator leaveJoint(Meta m, RegionView r) {
    String d = "leave the joint configuration of region " + r.id();
    return new Operator(m.id(), r.id(), OperatorKind.OPERATOR_KIND_REMOVE_PEER, m.origin(), d,
        List.of(new OpStep.LeaveJoint()), r.version(), m.nowMs(), m.timeoutMs(), 0, 0, 0, 0);
  }

  /** Splits at {@code key} (strictly inside the region), or in the middle when it is empty. */
  public static Operator split(Meta m, RegionView r, ByteString key) {
    String d = "split region " + r.id() + (key.isEmpty() ? " in the middle" : " at key " + Keys.toString(key));
    return new Operator(m.id(), r.id(), OperatorKind.OPERATOR_KIND_SPLIT, m.origin(), d,
        List.of(new OpStep.SplitRegion(key, r.version())), r.version(), m.nowMs(), m.timeoutMs(), 0, 0, 0, 0);
  }

  private static void requirePeer(RegionView r, Peer p) {
    if (r.peer(p.getId()) == null) {
      throw new IllegalStateException("peer " + p.getId() + " is not in region " + r.id() + ": " + r.region());
    }
  }
}
