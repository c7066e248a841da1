package io.flotilla.region.peer;

import io.flotilla.engine.proto.ChangePeerRequest;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChange;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.raft.ConfChange;
import io.flotilla.engine.raft.ConfChangeSingle;
import io.flotilla.engine.raft.ConfState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pure part of region membership changes: planning the Raft conf change for a PD step
 * ({@link #plan}) and the region meta a committed conf change leads to ({@link #after}).
 *
 * <p>The meta is derived from the Raft {@link ConfState} after the change, never trusted from the
 * proposer, so the region's peers always say what the group's membership is. A peer's role:
 *
 * <table>
 *   <caption>Roles from the conf state</caption>
 *   <tr><th>in incoming voters</th><th>in outgoing voters</th><th>learner</th><th>role</th></tr>
 *   <tr><td>yes</td><td>yes, or not joint</td><td>no</td><td>VOTER</td></tr>
 *   <tr><td>yes</td><td>no (joint)</td><td>no</td><td>INCOMING_VOTER</td></tr>
 *   <tr><td>no</td><td>yes (joint)</td><td>no</td><td>DEMOTING_VOTER (leaves as learner if in
 *       {@code learnersNext}, else is removed)</td></tr>
 *   <tr><td>no</td><td>no</td><td>yes</td><td>LEARNER</td></tr>
 * </table>
 *
 * Store ids of peers already in the region come from the region; those of added peers from the
 * {@link ChangePeerRequest} the leader put in the conf change's context. {@code conf_ver} grows by
 * one per single change, and by one for leaving a joint configuration; a change the Raft core
 * refused (membership unchanged) leaves the region as it is.
 *
 * <p>Stateless.
 */
public final class Membership {
  private Membership() {}

  /** A conf change to propose and the region it is expected to lead to (in its context). */
  public record Plan(ConfChange change, Region expected) {}

  /** Whether the region is in a joint configuration (some peer is incoming or demoting). */
  public static boolean isJoint(Region r) {
    for (Peer p : r.getPeersList()) {
      if (p.getRole() == PeerRole.PEER_ROLE_INCOMING_VOTER || p.getRole() == PeerRole.PEER_ROLE_DEMOTING_VOTER) {
        return true;
      }
    }
    return false;
  }

  public static Peer peer(Region r, long peerId) {
    for (Peer p : r.getPeersList()) {
      if (p.getId() == peerId) {
        return p;
      }
    }
    return null;
  }

  /** The role of {@code id} in {@code cs}, or null if it is not a member. */
  static PeerRole role(ConfState cs, long id) {
    if (cs.learners().contains(id)) {
      return PeerRole.PEER_ROLE_LEARNER;
    }
    boolean in = cs.voters().contains(id);
    boolean out = cs.votersOutgoing().contains(id);
    if (!cs.isJoint()) {
      return in ? PeerRole.PEER_ROLE_VOTER : null;
    }
    if (in && out) {
      return PeerRole.PEER_ROLE_VOTER;
    }
    if (in) {
      return PeerRole.PEER_ROLE_INCOMING_VOTER;
    }
    return out ? PeerRole.PEER_ROLE_DEMOTING_VOTER : null;
  }

  /**
   * The region after {@code change} was applied and the group's membership became {@code after};
   * {@code region} itself (the same object) when the membership did not change.
   *
   * @param context the proposer's {@link ChangePeerRequest} (default instance when the entry has
   *     none, e.g. the core's own auto-leave)
   */
  public static Region after(Region region, ConfChange change, ConfState after, ChangePeerRequest context) {
    Map<Long, Long> storeOf = new HashMap<>();
    for (Peer p : context.getPeersAfterList()) {
      storeOf.put(p.getId(), p.getStoreId());
    }
    for (Peer p : region.getPeersList()) {
      storeOf.put(p.getId(), p.getStoreId());
    }
    // Existing peers keep their order; new ones follow in id order.
    LinkedHashMap<Long, Peer> out = new LinkedHashMap<>();
    List<Long> candidates = new ArrayList<>();
    region.getPeersList().forEach(p -> candidates.add(p.getId()));
    List<Long> added = new ArrayList<>();
    for (List<Long> ids : List.of(after.voters(), after.votersOutgoing(), after.learners())) {
      for (long id : ids) {
        if (!candidates.contains(id) && !added.contains(id)) {
          added.add(id);
        }
      }
    }
    added.sort(null);
    candidates.addAll(added);
    for (long id : candidates) {
      PeerRole role = role(after, id);
      if (role != null) {
        out.put(id, Peer.newBuilder().setId(id).setStoreId(storeOf.getOrDefault(id, 0L)).setRole(role).build());
      }
    }
    List<Peer> peers = new ArrayList<>(out.values());
    if (peers.equals(region.getPeersList())) {
      return region;
    }
    long confVer = region.getEpoch().getConfVer() + Math.max(1, change.changes().size());
    return region.toBuilder().clearPeers().addAllPeers(peers)
        .setEpoch(region.getEpoch().toBuilder().setConfVer(confVer)).build();
  }

  /**
   * The conf change that carries out a PD step on {@code region}, or null when there is nothing
   * to do: every change is already reflected in the region (the step was carried out before), or
   * the region is in a joint configuration and the step does not leave it (the core refuses any
   * other change then; the auto-leave or PD's leave step comes first). With {@code leave_joint}
   * and no changes: leave the joint configuration if the region is in one.
   *
   * <p>Changes already done are dropped from the plan; one remaining change is a simple change,
   * several enter a joint configuration that the core leaves automatically once it is applied.
   *
   * @throws IllegalArgumentException if the step cannot apply to this region (an added peer's
   *     store already holds another peer of it, or a change names no peer)
   */
  public static Plan plan(Region region, ChangePeers step) {
    boolean joint = isJoint(region);
    if (step.getChangesCount() == 0) {
      if (!step.getLeaveJoint() || !joint) {
        return null;
      }
      List<Peer> expected = new ArrayList<>();
      for (Peer p : region.getPeersList()) {
        switch (p.getRole()) {
          case PEER_ROLE_INCOMING_VOTER -> expected.add(p.toBuilder().setRole(PeerRole.PEER_ROLE_VOTER).build());
          // NB: a demoting voter may stay as a learner; the applied conf state decides.
          case PEER_ROLE_DEMOTING_VOTER -> { }
          default -> expected.add(p);
        }
      }
      Region exp = withPeers(region, expected, 1);
      return new Plan(withContext(ConfChange.leaveJoint(), exp), exp);
    }
    if (joint) {
      return null;
    }
    List<ConfChangeSingle> singles = new ArrayList<>();
    List<PeerChange> todo = new ArrayList<>();
    for (PeerChange c : step.getChangesList()) {
      Peer target = c.getPeer();
      if (target.getId() == 0) {
        throw new IllegalArgumentException("peer change " + c.getType() + " names no peer id");
      }
      Peer existing = peer(region, target.getId());
      switch (c.getType()) {
        case PEER_CHANGE_ADD_LEARNER -> {
          if (existing != null && existing.getRole() == PeerRole.PEER_ROLE_LEARNER) {
            continue;
          }
          checkStoreFree(region, target, existing);
          singles.add(new ConfChangeSingle(ConfChangeSingle.Type.ADD_LEARNER, target.getId()));
        }
        case PEER_CHANGE_ADD_VOTER -> {
          if (existing != null && existing.getRole() == PeerRole.PEER_ROLE_VOTER) {
            continue;
          }
          checkStoreFree(region, target, existing);
          singles.add(new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, target.getId()));
        }
        case PEER_CHANGE_REMOVE -> {
          if (existing == null) {
            continue;
          }
          singles.add(new ConfChangeSingle(ConfChangeSingle.Type.REMOVE_NODE, target.getId()));
        }
        default -> throw new IllegalArgumentException("unknown peer change type " + c.getType());
      }
      todo.add(c);
    }
    if (singles.isEmpty()) {
      return null;
    }
    boolean enterJoint = singles.size() > 1;
    Map<Long, Peer> peers = new LinkedHashMap<>();
    region.getPeersList().forEach(p -> peers.put(p.getId(), p));
    for (PeerChange c : todo) {
      Peer target = c.getPeer();
      Peer existing = peers.get(target.getId());
      long storeId = existing != null ? existing.getStoreId() : target.getStoreId();
      boolean wasVoter = existing != null && existing.getRole() == PeerRole.PEER_ROLE_VOTER;
      PeerRole role = switch (c.getType()) {
        case PEER_CHANGE_ADD_LEARNER -> enterJoint && wasVoter ? PeerRole.PEER_ROLE_DEMOTING_VOTER
            : PeerRole.PEER_ROLE_LEARNER;
        case PEER_CHANGE_ADD_VOTER -> enterJoint ? PeerRole.PEER_ROLE_INCOMING_VOTER : PeerRole.PEER_ROLE_VOTER;
        default -> enterJoint && wasVoter ? PeerRole.PEER_ROLE_DEMOTING_VOTER : null;
      };
      if (role == null) {
        peers.remove(target.getId());
      } else {
        peers.put(target.getId(), Peer.newBuilder().setId(target.getId()).setStoreId(storeId).setRole(role).build());
      }
    }
    Region exp = withPeers(region, new ArrayList<>(peers.values()), singles.size());
    ConfChange cc = new ConfChange(enterJoint ? ConfChange.Transition.JOINT_IMPLICIT : ConfChange.Transition.AUTO,
        singles, null);
    return new Plan(withContext(cc, exp), exp);
  }

  private static void checkStoreFree(Region region, Peer target, Peer existing) {
    if (existing != null) {
      return;
    }
    if (target.getStoreId() == 0) {
      throw new IllegalArgumentException("added peer " + target.getId() + " names no store");
    }
    for (Peer p : region.getPeersList()) {
      if (p.getStoreId() == target.getStoreId()) {
        throw new IllegalArgumentException("store " + target.getStoreId() + " already holds peer " + p.getId()
            + " of region " + region.getId() + "; cannot add peer " + target.getId() + " there");
      }
    }
  }

  private static Region withPeers(Region region, List<Peer> peers, int changes) {
    return region.toBuilder().clearPeers().addAllPeers(peers)
        .setEpoch(region.getEpoch().toBuilder().setConfVer(region.getEpoch().getConfVer() + changes)).build();
  }

  private static ConfChange withContext(ConfChange cc, Region expected) {
    byte[] ctx = ChangePeerRequest.newBuilder().addAllPeersAfter(expected.getPeersList())
        .setConfVerAfter(expected.getEpoch().getConfVer()).build().toByteArray();
    return new ConfChange(cc.transition(), cc.changes(), ctx);
  }
}
