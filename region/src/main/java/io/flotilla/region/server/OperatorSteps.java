package io.flotilla.region.server;

import io.flotilla.engine.proto.AdminResponse;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.SplitRegionStep;
import io.flotilla.engine.proto.TransferLeaderStep;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.peer.Membership;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.split.SplitScan;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the operator step PD answered a region heartbeat with, on the region's leader.
 * Every step is idempotent: PD repeats a step until a later heartbeat shows its effect, so a step
 * already done, or one that cannot be done now, is skipped (and logged).
 *
 * <ul>
 *   <li>{@link ChangePeers}: {@link Membership#plan} turns it into one Raft conf change (simple for
 *       one remaining change, joint with automatic leave for several, leave-joint for {@code
 *       leave_joint}) carrying the expected region in its context; at most one is in flight per
 *       region (the core also refuses a second while one is unapplied);
 *   <li>{@link TransferLeaderStep}: to the named peer if it is a voter of the region here (a
 *       learner, an unknown peer or this leader itself is skipped);
 *   <li>{@link SplitRegionStep}: at the given key, which must lie strictly inside the region (not
 *       its start key; else the step is skipped: the region changed since PD planned it), or at
 *       the middle key when none is given; through PD's ids and a {@code Split} proposal as for a
 *       size-triggered split.
 * </ul>
 *
 * <p>Threads: {@link #onStep} from any thread; the work runs on the store's task executor.
 */
final class OperatorSteps {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorSteps.class);

  private final Store store;
  private final StoreTasks tasks;
  private final Executor executor;
  private final Set<Long> changing = ConcurrentHashMap.newKeySet();

  OperatorSteps(Store store, StoreTasks tasks, Executor executor) {
    this.store = store;
    this.tasks = tasks;
    this.executor = executor;
  }

  void onStep(RegionPeer p, RegionHeartbeatResponse resp) {
    try {
      executor.execute(() -> {
        try {
          run(p, resp);
        } catch (RuntimeException e) {
          LOG.warn("{} operator {} step failed: {}", p, resp.getOperatorId(), e.toString(), e);
        }
      });
    } catch (RejectedExecutionException e) {
      // The store is closing.
    }
  }

  private void run(RegionPeer p, RegionHeartbeatResponse resp) {
    Region r = p.region();
    if (r == null || p.state() != RegionPeer.State.NORMAL || !store.isLeader(p.regionId())) {
      return;
    }
    switch (resp.getStepCase()) {
      case CHANGE_PEERS -> changePeers(p, r, resp.getOperatorId(), resp.getChangePeers());
      case TRANSFER_LEADER -> transferLeader(p, r, resp.getOperatorId(), resp.getTransferLeader());
      case SPLIT_REGION -> split(p, r, resp.getOperatorId(), resp.getSplitRegion());
      default -> { }
    }
  }

  private void changePeers(RegionPeer p, Region r, long op, ChangePeers step) {
    Membership.Plan plan;
    try {
      plan = Membership.plan(r, step);
    } catch (IllegalArgumentException e) {
      LOG.warn("{} operator {}: membership step {} skipped: {}", p, op, oneLine(step), e.getMessage());
      return;
    }
    if (plan == null) {
      LOG.debug("{} operator {}: membership step {} already done or not applicable now", p, op, oneLine(step));
      return;
    }
    if (!changing.add(p.regionId())) {
      return;
    }
    LOG.info("{} operator {}: proposing {} {} for peers {}", p, op, plan.change().transition(),
        plan.change().changes(), plan.expected().getPeersList().stream()
            .map(x -> x.getId() + "@" + x.getStoreId() + ":" + x.getRole()).toList());
    store.driver().proposeConfChange(p.regionId(), plan.change(), AdminResponse.class).whenComplete((res, ex) -> {
      changing.remove(p.regionId());
      if (ex != null) {
        LOG.info("{} operator {}: membership change not applied, PD will repeat the step: {}", p, op, ex.toString());
      } else if (res.hasError()) {
        LOG.info("{} operator {}: {}", p, op, res.getError().getMessage());
      }
    });
  }

  private void transferLeader(RegionPeer p, Region r, long op, TransferLeaderStep step) {
    Peer target = Membership.peer(r, step.getPeer().getId());
    if (target == null || target.getRole() != PeerRole.PEER_ROLE_VOTER || target.getId() == p.peerId()) {
      LOG.info("{} operator {}: leader transfer to peer {} skipped: {}", p, op, step.getPeer().getId(),
          target == null ? "not a peer of the region" : target.getId() == p.peerId() ? "it leads already"
              : "it is a " + target.getRole());
      return;
    }
    LOG.info("{} operator {}: transferring leadership to peer {} on store {}", p, op, target.getId(),
        target.getStoreId());
    store.driver().transferLeader(p.regionId(), target.getId());
  }

  private void split(RegionPeer p, Region r, long op, SplitRegionStep step) {
    byte[] key = step.getSplitKey().toByteArray();
    boolean inside = key.length > 0 && KeyRange.contains(r, key)
        && KeyRange.compare(key, r.getStartKey().toByteArray()) > 0;
    if (key.length > 0 && !inside) {
      LOG.info("{} operator {}: split skipped: the key is not strictly inside the region", p, op);
      return;
    }
    if (!inside) {
      SplitScan.Result res = SplitScan.scan(store.storage().reader(), r);
      p.setApproximate(res.bytes(), res.keys());
      key = res.middleKey();
      if (key == null) {
        LOG.info("{} operator {}: split skipped: the region holds fewer than two keys", p, op);
        return;
      }
    }
    LOG.info("{} operator {}: splitting", p, op);
    tasks.proposeSplit(p, r, key);
  }

  private static String oneLine(ChangePeers step) {
    return step.toString().replace('\n', ' ').trim();
  }
}
