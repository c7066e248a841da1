package io.flotilla.pd.operator;

import io.flotilla.engine.proto.OperatorInfo;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.OperatorState;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.TransferLeaderStep;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PD leader's running operators, at most one per region, and the recently ended ones.
 *
 * <p>A region leader's heartbeat {@link #dispatch dispatches}: the region's operator times out,
 * turns stale, or advances past every step whose effect the report shows, then hands out its current
 * step (or nothing while it waits, e.g. for a learner to catch up). So a step is handed out again
 * until its effect is seen, and the leader carries steps out idempotently. If the step would demote
 * or remove the peer that leads, a leader transfer to a healthy voter is handed out instead.
 *
 * <p>Snapshot limits: a store takes part in at most {@link OperatorSettings#storeLimitReceive}
 * receiving and {@link OperatorSettings#storeLimitSend} sending snapshots; the load of a store is the
 * larger of the operators still waiting for their learner to catch up there and the count the store
 * itself reports. {@link #add} refuses an operator that would exceed either.
 *
 * <p>Operators live in the PD leader's memory only: a new leader starts with none ({@link #clear});
 * its checkers find any region left half-way (a joint configuration, a stray learner, a missing
 * replica) and finish or undo the work with new operators.
 *
 * <p>Threads: any thread; every method holds the controller's lock briefly and never blocks.
 */
public final class OperatorController {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorController.class);

  /** Snapshots a store reports it is sending and receiving right now. */
  public interface ReportedSnapshots {
    ReportedSnapshots NONE = new ReportedSnapshots() {
      @Override
      public int sending(long storeId) {
        return 0;
      }

      @Override
      public int receiving(long storeId) {
        return 0;
      }
    };

    int sending(long storeId);

    int receiving(long storeId);
  }

  private final OperatorSettings settings;
  private final Map<Long, Operator> byRegion = new HashMap<>();
  private final Deque<Operator> ended = new ArrayDeque<>();
  /** The newest epoch (version, conf_ver) a heartbeat showed per region: PD's applied meta may lag it. */
  private final Map<Long, long[]> seenEpochs = new HashMap<>();

  public OperatorController(OperatorSettings settings) {
    this.settings = settings;
  }

  public OperatorSettings settings() {
    return settings;
  }

  /** The timeout for a new operator of {@code kind}. */
  public long timeoutFor(OperatorKind kind) {
    return switch (kind) {
      case OPERATOR_KIND_TRANSFER_LEADER -> settings.transferLeaderTimeoutMs;
      case OPERATOR_KIND_SPLIT -> settings.splitTimeoutMs;
      default -> settings.moveTimeoutMs;
    };
  }

  public synchronized Optional<Operator> running(long regionId) {
    return Optional.ofNullable(byRegion.get(regionId));
  }

  public synchronized List<Operator> running() {
    return new ArrayList<>(byRegion.values());
  }

  /**
   * Starts {@code op}: null if it runs now, otherwise why not (its region has an operator, or a
   * store is at its snapshot limit).
   */
  public synchronized String add(Operator op, ReportedSnapshots reported) {
    Operator held = byRegion.get(op.regionId());
    if (held != null) {
      return "region " + op.regionId() + " already has " + held;
    }
    String limit = limitProblem(op, reported);
    if (limit != null) {
      return limit;
    }
    byRegion.put(op.regionId(), op);
    LOG.info("operator {} created: {} [region={} origin={} steps={} timeout={}ms]", op.id(), op.description(),
        op.regionId(), op.origin(), op.info().getStepsList(), op.timeoutMs());
    return null;
  }

  /** Why {@code op} would break a snapshot limit, or null. */
  public synchronized String limitProblem(Operator op, ReportedSnapshots reported) {
    if (op.receiveStore() != 0) {
      int load = Math.max(receivingLoad(op.receiveStore()), reported.receiving(op.receiveStore()));
      if (load >= settings.storeLimitReceive) {
        return "store " + op.receiveStore() + " is receiving " + load + " snapshots (store-limit-receive "
            + settings.storeLimitReceive + ")";
      }
    }
    if (op.sendStore() != 0 && op.receiveStore() != 0) {
      int load = Math.max(sendingLoad(op.sendStore()), reported.sending(op.sendStore()));
      if (load >= settings.storeLimitSend) {
        return "store " + op.sendStore() + " is sending " + load + " snapshots (store-limit-send "
            + settings.storeLimitSend + ")";
      }
    }
    return null;
  }

  /** Running operators whose learner on {@code storeId} has not caught up yet. */
  public synchronized int receivingLoad(long storeId) {
    int n = 0;
    for (Operator op : byRegion.values()) {
      if (op.receiveStore() == storeId && op.awaitsSnapshot()) {
        n++;
      }
    }
    return n;
  }

  /** Running operators expected to send a snapshot from {@code storeId}. */
  public synchronized int sendingLoad(long storeId) {
    int n = 0;
    for (Operator op : byRegion.values()) {
      if (op.sendStore() == storeId && op.receiveStore() != 0 && op.awaitsSnapshot()) {
        n++;
      }
    }
    return n;
  }

  /**
   * Takes a report of region {@code r} (not older than what PD holds): ends or advances its
   * operator and answers with the step its leader should carry out now, if any.
   */
  public synchronized RegionHeartbeatResponse dispatch(RegionView r, long nowMs) {
    RegionHeartbeatResponse.Builder out = RegionHeartbeatResponse.newBuilder().setRegionId(r.id());
    long[] seen = seenEpochs.computeIfAbsent(r.id(), k -> new long[2]);
    seen[0] = Math.max(seen[0], r.version());
    seen[1] = Math.max(seen[1], r.confVer());
    Operator op = byRegion.get(r.id());
    if (op == null) {
      return out.build();
    }
    if (expired(op, nowMs)) {
      return out.build();
    }
    OpStep step = op.currentStepObject();
    if (!(step instanceof OpStep.SplitRegion) && r.version() != op.regionVersion()) {
      finish(op, OperatorState.OPERATOR_STATE_STALE, "the region's version changed from " + op.regionVersion()
          + " to " + r.version() + " (split or merged)", nowMs);
      return out.build();
    }
    while (step != null && step.isDone(r)) {
      op.advance();
      step = op.currentStepObject();
    }
    if (step == null) {
      finish(op, OperatorState.OPERATOR_STATE_FINISHED, "", nowMs);
      return out.build();
    }
    String stale = step.staleReason(r);
    if (stale != null) {
      finish(op, OperatorState.OPERATOR_STATE_STALE, stale + " (at step '" + step.describe() + "')", nowMs);
      return out.build();
    }
    if (r.leader() == null) {
      return out.build();
    }
    if (step.leavingPeers().contains(r.leader().getId())) {
      Peer to = transferTarget(r, step.leavingPeers(), op.addsStore());
      if (to != null) {
        out.setOperatorId(op.id()).setTransferLeader(TransferLeaderStep.newBuilder().setPeer(to));
      }
      return out.build();
    }
    if (step.command(r, out)) {
      out.setOperatorId(op.id());
    }
    return out.build();
  }

  /**
   * Whether {@code r} (from PD's applied meta) is older than a heartbeat already showed: the meta
   * lags (its update is being replicated), so a scheduler must not act on it yet.
   */
  public synchronized boolean isBehind(RegionView r) {
    long[] seen = seenEpochs.get(r.id());
    return seen != null && (r.version() < seen[0] || r.confVer() < seen[1]);
  }

  /** A healthy voter (not leaving) to lead instead; the one on {@code preferStore} if it qualifies. */
  private static Peer transferTarget(RegionView r, Set<Long> leaving, long preferStore) {
    Peer best = null;
    for (Peer p : r.region().getPeersList()) {
      if (p.getRole() != PeerRole.PEER_ROLE_VOTER || leaving.contains(p.getId()) || !r.isHealthy(p.getId())) {
        continue;
      }
      if (best == null || p.getStoreId() == preferStore) {
        best = p;
      }
    }
    return best;
  }

  /**
   * Ends operators that timed out, whose region is gone ({@code regions} answers null) or whose
   * region's version changed, as PD's meta says; for regions whose leader stopped reporting.
   */
  public synchronized void check(LongFunction<RegionView> regions, long nowMs) {
    for (Operator op : new ArrayList<>(byRegion.values())) {
      if (expired(op, nowMs)) {
        continue;
      }
      RegionView r = regions.apply(op.regionId());
      if (r != null && isBehind(r)) {
        continue;
      }
      if (r == null) {
        finish(op, OperatorState.OPERATOR_STATE_STALE, "the region is gone", nowMs);
      } else if (!(op.currentStepObject() instanceof OpStep.SplitRegion) && r.version() != op.regionVersion()) {
        finish(op, OperatorState.OPERATOR_STATE_STALE, "the region's version changed from " + op.regionVersion()
            + " to " + r.version() + " (split or merged)", nowMs);
      }
    }
  }

  /** Cancels operator {@code operatorId}, or the running one of {@code regionId} when it is 0. */
  public synchronized Optional<Operator> cancel(long operatorId, long regionId, String why, long nowMs) {
    Operator op = null;
    if (operatorId != 0) {
      for (Operator o : byRegion.values()) {
        if (o.id() == operatorId) {
          op = o;
        }
      }
    } else {
      op = byRegion.get(regionId);
    }
    if (op == null) {
      return Optional.empty();
    }
    finish(op, OperatorState.OPERATOR_STATE_CANCELLED, why, nowMs);
    return Optional.of(op);
  }

  /** Running operators, then (with {@code includeEnded}) the ended ones, newest first. */
  public synchronized List<OperatorInfo> list(boolean includeEnded) {
    List<OperatorInfo> out = new ArrayList<>();
    byRegion.values().stream().sorted((a, b) -> Long.compare(a.id(), b.id())).forEach(o -> out.add(o.info()));
    if (includeEnded) {
      ended.descendingIterator().forEachRemaining(o -> out.add(o.info()));
    }
    return out;
  }

  /** The ended operator {@code id}, if still remembered. */
  public synchronized Optional<Operator> ended(long id) {
    return ended.stream().filter(o -> o.id() == id).findFirst();
  }

  /** Forgets every operator, running or ended (this member stopped leading, or leads a new term). */
  public synchronized void clear(String why) {
    if (!byRegion.isEmpty()) {
      LOG.info("{} running operators dropped: {}", byRegion.size(), why);
    }
    byRegion.clear();
    ended.clear();
    seenEpochs.clear();
  }

  private boolean expired(Operator op, long nowMs) {
    if (nowMs - op.createdMs() < op.timeoutMs()) {
      return false;
    }
    OpStep step = op.currentStepObject();
    finish(op, OperatorState.OPERATOR_STATE_TIMED_OUT, "no progress past step " + op.currentStep()
        + (step == null ? "" : " '" + step.describe() + "'") + " within " + op.timeoutMs() + " ms", nowMs);
    return true;
  }

  private void finish(Operator op, OperatorState to, String why, long nowMs) {
    if (!op.end(to, why, nowMs)) {
      return;
    }
    byRegion.remove(op.regionId(), op);
    ended.addLast(op);
    while (ended.size() > Math.max(0, settings.maxEnded)) {
      ended.removeFirst();
    }
    String word = switch (to) {
      case OPERATOR_STATE_FINISHED -> "finished";
      case OPERATOR_STATE_TIMED_OUT -> "timed out";
      case OPERATOR_STATE_CANCELLED -> "cancelled";
      case OPERATOR_STATE_STALE -> "stale";
      default -> to.toString();
    };
    if (to == OperatorState.OPERATOR_STATE_FINISHED) {
      LOG.info("operator {} finished: {} [region={} origin={} took={}ms]", op.id(), op.description(), op.regionId(),
          op.origin(), nowMs - op.createdMs());
    } else {
      LOG.info("operator {} {}: {} [region={} origin={} step={}/{}] {}", op.id(), word, op.description(),
          op.regionId(), op.origin(), op.currentStep(), op.steps().size(), why);
    }
  }
}
