package io.flotilla.pd.schedule;

import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.Peer;
import io.flotilla.pd.operator.Operator;
import io.flotilla.pd.operator.Operators;
import io.flotilla.pd.operator.RegionView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Evens out replicas across healthy Up stores, by region count ({@code by=count}) or by approximate
 * size ({@code by=size}). Balanced when {@code max - min <= max(one region, tolerance * avg)}.
 * Otherwise it moves a replica of a settled region (all voters healthy, max-replicas of them, no
 * operator) from the fullest store to the emptiest one that can take it, only if the gap is at least
 * twice the region's weight (after the move the source still holds at least as much: no moving back
 * and forth), skipping regions it moved less than {@code region-cool-down} ago, up to {@code batch}
 * moves a round. Counts include running operators.
 */
public final class BalanceRegionScheduler implements Scheduler {
  public static final String NAME = "balance-region";

  private volatile boolean enabled = true;
  private volatile double tolerance = 0.05;
  private volatile int batch = 4;
  private volatile String by = "count";
  private volatile long coolDownMs = 5 * 60_000L;
  private final Map<Long, Long> lastMovedMs = new HashMap<>();
  private final Settings settings = new Settings(NAME)
      .decimal("tolerance", 0.0, 1.0, () -> tolerance, v -> tolerance = v)
      .integer("batch", 1, 256, () -> batch, v -> batch = v)
      .choice("by", List.of("count", "size"), () -> by, v -> by = v)
      .duration("region-cool-down", 0, 86_400_000L, () -> coolDownMs, v -> coolDownMs = v);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "moves replicas from the stores with the most regions (or bytes) to those with the fewest";
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

  /** Forgets cool-downs (a new PD leader term). */
  public synchronized void reset() {
    lastMovedMs.clear();
  }

  private long score(ScheduleContext ctx, long storeId) {
    return "size".equals(by) ? ctx.regionSize(storeId) : ctx.regionCount(storeId);
  }

  private long weight(RegionView r) {
    return "size".equals(by) ? ScheduleContext.weight(r) : 1;
  }

  @Override
  public synchronized List<Operator> schedule(ScheduleContext ctx) {
    lastMovedMs.values().removeIf(t -> ctx.nowMs() - t >= coolDownMs);
    List<Long> stores = new ArrayList<>();
    for (StoreView s : ctx.snapshot().stores()) {
      if (ctx.isHealthyTarget(s.id())) {
        stores.add(s.id());
      }
    }
    List<Operator> out = new ArrayList<>();
    if (stores.size() < 2) {
      return out;
    }
    long unit = "size".equals(by) ? 1L << 20 : 1;
    Set<Long> exhausted = new HashSet<>();
    while (out.size() < batch) {
      Comparator<Long> byScore = Comparator.<Long>comparingLong(id -> score(ctx, id)).thenComparingLong(id -> id);
      double avg = stores.stream().mapToLong(id -> score(ctx, id)).sum() / (double) stores.size();
      long min = stores.stream().mapToLong(id -> score(ctx, id)).min().orElse(0);
      Long source = stores.stream().filter(id -> !exhausted.contains(id)).max(byScore).orElse(null);
      if (source == null || score(ctx, source) - min <= Math.max(unit, tolerance * avg)) {
        break;
      }
      Operator op = moveFrom(ctx, source, stores.stream().sorted(byScore).toList());
      if (op == null) {
        exhausted.add(source);
      } else {
        lastMovedMs.put(op.regionId(), ctx.nowMs());
        out.add(op);
      }
    }
    return out;
  }

  private Operator moveFrom(ScheduleContext ctx, long source, List<Long> targets) {
    for (long target : targets) {
      if (target == source || !ctx.canReceive(target)) {
        continue;
      }
      for (RegionView r : ctx.snapshot().regions()) {
        Peer from = r.peerOnStore(source);
        if (from == null || r.peerOnStore(target) != null || !ScheduleContext.isSettled(r)
            || r.voters().size() != ctx.maxReplicas() || lastMovedMs.containsKey(r.id())
            || ctx.isBusy(r) || !ctx.canSend(r.leaderStore())) {
          continue;
        }
        if (score(ctx, source) - score(ctx, target) < 2 * weight(r)) {
          continue; // after the move the target would hold more than the source: it would move back
        }
        Operator op = Operators.movePeer(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_MOVE_PEER), r, from, target,
            ctx.newId(), "balance");
        if (ctx.start(op)) {
          return op;
        }
      }
    }
    return null;
  }
}
