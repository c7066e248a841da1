package io.flotilla.pd.schedule;

import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.Peer;
import io.flotilla.pd.operator.Operator;
import io.flotilla.pd.operator.Operators;
import io.flotilla.pd.operator.RegionView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Keeps every region at {@code max-replicas} healthy voters. For each region without an operator, the
 * first that applies:
 *
 * <ol>
 *   <li>in a joint configuration: leave it (a PD leader change or an ended operator left it there);
 *   <li>fewer voters than max-replicas: add a peer on the best store;
 *   <li>a voter on a bad store (down longer than max-store-down-time, Offline, Tombstone): move it to
 *       the best store (a learner first, so the region never has fewer replicas);
 *   <li>more voters than max-replicas: remove one (on a bad store if any, else on the busiest);
 *   <li>a learner nobody is promoting (an operator ended half-way): remove it.
 * </ol>
 *
 * Such a learner, when caught up (neither pending nor down) on a store fit for a replica, is the
 * replica the first two cases add (no snapshot to send); when they find no store at all, it is
 * removed so that its store can take a fresh one: a learner must never block a repair.
 *
 * The best store is Up, not down, holds no replica of the region, is under its snapshot receive
 * limit, and has the fewest regions (then the least used space, then the lowest id). Its settings
 * {@code max-replicas} and {@code max-store-down-time} hold for every scheduler.
 */
public final class ReplicaChecker implements Scheduler {
  public static final String NAME = "replica-checker";
  public static final int DEFAULT_MAX_REPLICAS = 3;

  private volatile boolean enabled = true;
  private volatile int maxReplicas = DEFAULT_MAX_REPLICAS;
  private volatile long maxStoreDownTimeMs;
  private final Settings settings;

  public ReplicaChecker(long maxStoreDownTimeMs) {
    this.maxStoreDownTimeMs = maxStoreDownTimeMs;
    this.settings = new Settings(NAME)
        .integer("max-replicas", 1, 7, () -> maxReplicas, v -> maxReplicas = v)
        .duration("max-store-down-time", 1, 7 * 86_400_000L, () -> this.maxStoreDownTimeMs,
            v -> this.maxStoreDownTimeMs = v);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "repairs regions: missing replicas, replicas on down/offline stores, extra replicas and learners, "
        + "joint configurations left behind";
  }

  @Override
  public boolean enabled() {
    return enabled;
  }

  @Override
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  @Override
  public Settings settings() {
    return settings;
  }

  public int maxReplicas() {
    return maxReplicas;
  }

  public long maxStoreDownTimeMs() {
    return maxStoreDownTimeMs;
  }

  @Override
  public List<Operator> schedule(ScheduleContext ctx) {
    List<Operator> out = new ArrayList<>();
    for (RegionView r : ctx.snapshot().regions()) {
      if (ctx.isBusy(r)) {
        continue;
      }
      Operator op = check(ctx, r);
      if (op != null && ctx.start(op)) {
        out.add(op);
      }
    }
    return out;
  }

  private Operator check(ScheduleContext ctx, RegionView r) {
    if (r.inJoint()) {
      return Operators.leaveJoint(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_REMOVE_PEER), r);
    }
    List<Peer> voters = r.voters();
    int want = ctx.maxReplicas();
    // A learner no operator is promoting (one ended half-way, e.g. stale after a split) holds a store
    // no new replica can go to: when caught up it is the new replica, else it goes.
    Peer learner = usableLearner(ctx, r);
    if (voters.size() < want) {
      if (learner != null) {
        return Operators.addPeer(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_ADD_PEER), r, learner.getStoreId(),
            learner.getId());
      }
      long to = bestStore(ctx, r);
      return to != 0 ? Operators.addPeer(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_ADD_PEER), r, to, ctx.newId())
          : removeLearner(ctx, r);
    }
    Peer bad = voters.stream().filter(p -> ctx.isBadStore(p.getStoreId())).findFirst().orElse(null);
    if (bad != null) {
      long to = learner != null ? learner.getStoreId() : bestStore(ctx, r);
      if (to != 0) {
        return Operators.movePeer(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_MOVE_PEER), r, bad, to,
            learner != null ? learner.getId() : ctx.newId(),
            "store " + bad.getStoreId() + " is " + badness(ctx, bad.getStoreId())
                + (learner != null ? "; learner " + learner.getId() + " is already there" : ""));
      }
      if (voters.size() > want) {
        return Operators.removePeer(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_REMOVE_PEER), r, bad,
            "extra replica on a " + badness(ctx, bad.getStoreId()) + " store");
      }
      return removeLearner(ctx, r);
    }
    if (voters.size() > want) {
      Peer victim = voters.stream()
          .max(Comparator.<Peer>comparingInt(p -> r.isLeader(p.getId()) ? 0 : 1)
              .thenComparingInt(p -> ctx.regionCount(p.getStoreId()))
              .thenComparingLong(Peer::getStoreId))
          .orElseThrow();
      return Operators.removePeer(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_REMOVE_PEER), r, victim,
          "more than " + want + " replicas");
    }
    return removeLearner(ctx, r);
  }

  /** A learner caught up (neither pending nor down) on a store fit for a replica, or null. */
  private static Peer usableLearner(ScheduleContext ctx, RegionView r) {
    for (Peer p : r.learners()) {
      if (r.isHealthy(p.getId()) && ctx.isHealthyTarget(p.getStoreId())) {
        return p;
      }
    }
    return null;
  }

  /** Removes a learner nobody promotes (the region has no operator), or null if it has none. */
  private static Operator removeLearner(ScheduleContext ctx, RegionView r) {
    List<Peer> learners = r.learners();
    return learners.isEmpty() ? null : Operators.removePeer(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_REMOVE_PEER),
        r, learners.get(0), "learner left by an operator that did not finish");
  }

  private static String badness(ScheduleContext ctx, long storeId) {
    StoreView s = ctx.snapshot().store(storeId);
    if (s == null) {
      return "unknown";
    }
    return s.isUp() ? "down" : s.state().name().replace("STORE_STATE_", "").toLowerCase(java.util.Locale.ROOT);
  }

  /** The store a new replica of {@code r} should go to, or 0 if none qualifies. */
  static long bestStore(ScheduleContext ctx, RegionView r) {
    StoreView best = null;
    for (StoreView s : ctx.snapshot().stores()) {
      if (!ctx.isHealthyTarget(s.id()) || r.peerOnStore(s.id()) != null || !ctx.canReceive(s.id())) {
        continue;
      }
      if (best == null || better(ctx, s, best)) {
        best = s;
      }
    }
    return best == null ? 0 : best.id();
  }

  private static boolean better(ScheduleContext ctx, StoreView a, StoreView b) {
    int c = Integer.compare(ctx.regionCount(a.id()), ctx.regionCount(b.id()));
    if (c != 0) {
      return c < 0;
    }
    c = Long.compare(a.stats().getUsedBytes(), b.stats().getUsedBytes());
    return c != 0 ? c < 0 : a.id() < b.id();
  }
}
