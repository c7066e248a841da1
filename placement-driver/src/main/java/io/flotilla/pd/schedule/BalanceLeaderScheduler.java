package io.flotilla.pd.schedule;

import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.pd.operator.Operator;
import io.flotilla.pd.operator.Operators;
import io.flotilla.pd.operator.RegionView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Evens out leaders across healthy Up stores. Balanced when {@code max - min <= max(1, tolerance *
 * avg)} leaders. Otherwise it moves a leader from the store with the most to the store with the
 * fewest that holds a healthy voter of one of its regions, only when the gap is at least 2 (after
 * the move the source still has at least as many: no ping-pong), up to {@code batch} transfers a
 * round. Counts include running operators.
 */
public final class BalanceLeaderScheduler implements Scheduler {
  public static final String NAME = "balance-leader";

  private volatile boolean enabled = true;
  private volatile double tolerance = 0.05;
  private volatile int batch = 4;
  private final Settings settings = new Settings(NAME)
      .decimal("tolerance", 0.0, 1.0, () -> tolerance, v -> tolerance = v)
      .integer("batch", 1, 256, () -> batch, v -> batch = v);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "moves leaders from the stores with the most to those with the fewest";
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

  @Override
  public List<Operator> schedule(ScheduleContext ctx) {
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
    Set<Long> exhausted = new HashSet<>();
    while (out.size() < batch) {
      Comparator<Long> byLeaders = Comparator.<Long>comparingInt(ctx::leaderCount).thenComparingLong(id -> id);
      long total = stores.stream().mapToLong(ctx::leaderCount).sum();
      double avg = (double) total / stores.size();
      int min = stores.stream().mapToInt(ctx::leaderCount).min().orElse(0);
      Long source = stores.stream().filter(id -> !exhausted.contains(id)).max(byLeaders).orElse(null);
      if (source == null || ctx.leaderCount(source) - min <= Math.max(1, tolerance * avg)) {
        break;
      }
      Operator op = transferFrom(ctx, source, stores.stream().sorted(byLeaders).toList());
      if (op == null) {
        exhausted.add(source);
      } else {
        out.add(op);
      }
    }
    return out;
  }

  private Operator transferFrom(ScheduleContext ctx, long source, List<Long> targets) {
    for (long target : targets) {
      if (ctx.leaderCount(source) - ctx.leaderCount(target) < 2) {
        return null;
      }
      for (RegionView r : ctx.snapshot().regions()) {
        if (r.leaderStore() != source || !ScheduleContext.isSettled(r)
            || ctx.isBusy(r)) {
          continue;
        }
        Peer to = r.peerOnStore(target);
        if (to == null || to.getRole() != PeerRole.PEER_ROLE_VOTER || !r.isHealthy(to.getId())) {
          continue;
        }
        Operator op = Operators.transferLeader(ctx.meta(NAME, OperatorKind.OPERATOR_KIND_TRANSFER_LEADER), r, to);
        if (ctx.start(op)) {
          return op;
        }
      }
    }
    return null;
  }
}
