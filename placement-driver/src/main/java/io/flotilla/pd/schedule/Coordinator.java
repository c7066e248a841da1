package io.flotilla.pd.schedule;

import io.flotilla.engine.proto.SchedulerInfo;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.pd.operator.Operator;
import io.flotilla.pd.operator.OperatorController;
import io.flotilla.pd.operator.OperatorSettings;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the PD leader's scheduling rounds and holds the run-time configuration of every scheduler.
 * A round: end operators that timed out or whose region changed ({@link OperatorController#check}),
 * turn Offline stores that hold no replica into Tombstones, then run the enabled schedulers in
 * order: {@value ReplicaChecker#NAME} (repair first), {@value BalanceLeaderScheduler#NAME}, {@value
 * BalanceRegionScheduler#NAME}.
 *
 * <p>The operator controller's settings are listed as the entry {@value #CONTROLLER}, which cannot
 * be disabled: {@code move-timeout} (10m: add, remove, move peer and leave joint), {@code
 * transfer-leader-timeout} (1m), {@code split-timeout} (1m), {@code store-limit-send} and {@code
 * store-limit-receive} (4 snapshots each).
 *
 * <p>Threads: {@link #runRound} on one scheduling thread; {@link #list} and {@link #set} from any.
 */
public final class Coordinator {
  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);
  public static final String CONTROLLER = "operator-controller";

  /** Moves a store to Tombstone through PD's Raft; completes when applied (or failed). */
  @FunctionalInterface
  public interface Tombstoner {
    CompletableFuture<?> tombstone(long storeId);
  }

  private final OperatorController controller;
  private final ReplicaChecker replicaChecker;
  private final BalanceLeaderScheduler balanceLeader = new BalanceLeaderScheduler();
  private final BalanceRegionScheduler balanceRegion = new BalanceRegionScheduler();
  private final Map<String, Scheduler> schedulers = new LinkedHashMap<>();
  private final Settings controllerSettings;
  private final Set<Long> tombstoning = new HashSet<>();

  public Coordinator(OperatorController controller, long maxStoreDownTimeMs) {
    this.controller = controller;
    this.replicaChecker = new ReplicaChecker(maxStoreDownTimeMs);
    for (Scheduler s : List.of(replicaChecker, balanceLeader, balanceRegion)) {
      schedulers.put(s.name(), s);
    }
    OperatorSettings os = controller.settings();
    this.controllerSettings = new Settings(CONTROLLER)
        .duration("move-timeout", 100, 86_400_000L, () -> os.moveTimeoutMs, v -> os.moveTimeoutMs = v)
        .duration("transfer-leader-timeout", 100, 86_400_000L, () -> os.transferLeaderTimeoutMs,
            v -> os.transferLeaderTimeoutMs = v)
        .duration("split-timeout", 100, 86_400_000L, () -> os.splitTimeoutMs, v -> os.splitTimeoutMs = v)
        .integer("store-limit-send", 1, 1024, () -> os.storeLimitSend, v -> os.storeLimitSend = v)
        .integer("store-limit-receive", 1, 1024, () -> os.storeLimitReceive, v -> os.storeLimitReceive = v);
  }

  public OperatorController controller() {
    return controller;
  }

  public ReplicaChecker replicaChecker() {
    return replicaChecker;
  }

  /** How long a silent store counts as up (the replica checker's {@code max-store-down-time}). */
  public long maxStoreDownTimeMs() {
    return replicaChecker.maxStoreDownTimeMs();
  }

  /** A new PD leader term: operators and cool-downs are gone. */
  public synchronized void reset(String why) {
    controller.clear(why);
    balanceRegion.reset();
    tombstoning.clear();
  }

  /** One scheduling round over {@code snapshot}; the operators it started. */
  public List<Operator> runRound(ClusterSnapshot snapshot, ScheduleContext.IdSource ids,
      OperatorController.ReportedSnapshots reported, Tombstoner tombstoner) {
    controller.check(snapshot::region, snapshot.nowMs());
    cancelTowardsGoneStores(snapshot);
    tombstoneDrained(snapshot, tombstoner);
    ScheduleContext ctx = new ScheduleContext(snapshot, controller, ids, reported, replicaChecker.maxReplicas(),
        replicaChecker.maxStoreDownTimeMs());
    List<Operator> started = new ArrayList<>();
    for (Scheduler s : schedulers.values()) {
      if (s.enabled()) {
        started.addAll(s.schedule(ctx));
      }
    }
    return started;
  }

  /** An operator still adding a replica on a store that is no longer Up will not be wanted there. */
  private void cancelTowardsGoneStores(ClusterSnapshot snapshot) {
    for (Operator op : controller.running()) {
      StoreView to = op.addsStore() == 0 ? null : snapshot.store(op.addsStore());
      if (op.addsStore() != 0 && (to == null || !to.isUp())) {
        controller.cancel(op.id(), 0, "its target store " + op.addsStore() + " is no longer up", snapshot.nowMs());
      }
    }
  }

  private void tombstoneDrained(ClusterSnapshot snapshot, Tombstoner tombstoner) {
    for (StoreView s : snapshot.stores()) {
      if (s.state() != StoreState.STORE_STATE_OFFLINE || holdsReplicas(snapshot, s.id())) {
        continue;
      }
      synchronized (this) {
        if (!tombstoning.add(s.id())) {
          continue;
        }
      }
      LOG.info("store {} is offline and holds no replica any more: marking it tombstone", s.id());
      tombstoner.tombstone(s.id()).whenComplete((r, ex) -> {
        synchronized (this) {
          tombstoning.remove(s.id());
        }
        if (ex != null) {
          LOG.warn("marking store {} tombstone failed; the next round retries: {}", s.id(), ex.toString());
        }
      });
    }
  }

  private static boolean holdsReplicas(ClusterSnapshot snapshot, long storeId) {
    for (var r : snapshot.regions()) {
      if (r.peerOnStore(storeId) != null) {
        return true;
      }
    }
    return false;
  }

  /** Every scheduler and the operator controller's entry. */
  public List<SchedulerInfo> list() {
    List<SchedulerInfo> out = new ArrayList<>();
    out.add(SchedulerInfo.newBuilder().setName(CONTROLLER).setEnabled(true)
        .setDescription("runs operators: timeouts and per-store snapshot limits (cannot be disabled)")
        .putAllSettings(controllerSettings.values()).build());
    for (Scheduler s : schedulers.values()) {
      out.add(info(s));
    }
    return out;
  }

  /**
   * Enables or disables {@code name} (when {@code enabled} is present) and changes its settings:
   * all or nothing.
   *
   * @throws IllegalArgumentException naming the unknown scheduler or setting, or the bad value and
   *     what is allowed
   */
  public synchronized SchedulerInfo set(String name, Optional<Boolean> enabled, Map<String, String> changes) {
    if (CONTROLLER.equals(name)) {
      if (enabled.isPresent() && !enabled.get()) {
        throw new IllegalArgumentException(CONTROLLER + ": cannot be disabled (disable the schedulers instead)");
      }
      controllerSettings.apply(changes);
      LOG.info("{} settings now {}", CONTROLLER, controllerSettings.values());
      return list().get(0);
    }
    Scheduler s = schedulers.get(name);
    if (s == null) {
      throw new IllegalArgumentException("name: unknown scheduler '" + name + "'; known: " + CONTROLLER + ", "
          + String.join(", ", schedulers.keySet()));
    }
    s.settings().apply(changes);
    enabled.ifPresent(s::setEnabled);
    LOG.info("scheduler {} {} with settings {}", name, s.enabled() ? "enabled" : "disabled", s.settings().values());
    return info(s);
  }

  private static SchedulerInfo info(Scheduler s) {
    return SchedulerInfo.newBuilder().setName(s.name()).setEnabled(s.enabled()).setDescription(s.description())
        .putAllSettings(s.settings().values()).build();
  }
}
