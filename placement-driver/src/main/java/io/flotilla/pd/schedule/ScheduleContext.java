package io.flotilla.pd.schedule;

import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.pd.operator.Operator;
import io.flotilla.pd.operator.OperatorController;
import io.flotilla.pd.operator.Operators;
import io.flotilla.pd.operator.RegionView;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One scheduling round: the snapshot, the operator controller, fresh ids, and the stores' loads as
 * they will be once running operators are done (their influence), kept up to date as the round
 * starts operators.
 *
 * <p>Threads: one round, one thread.
 */
public final class ScheduleContext {
  /** Fresh ids from PD's allocator; may block briefly (a Raft round when the leader's batch ran out). */
  @FunctionalInterface
  public interface IdSource {
    long next();
  }

  private final ClusterSnapshot snapshot;
  private final OperatorController controller;
  private final IdSource ids;
  private final OperatorController.ReportedSnapshots reported;
  private final int maxReplicas;
  private final long maxStoreDownMs;
  private final Map<Long, Integer> regionCount = new HashMap<>();
  private final Map<Long, Long> regionSize = new HashMap<>();
  private final Map<Long, Integer> leaderCount = new HashMap<>();

  public ScheduleContext(ClusterSnapshot snapshot, OperatorController controller, IdSource ids,
      OperatorController.ReportedSnapshots reported, int maxReplicas, long maxStoreDownMs) {
    this.snapshot = snapshot;
    this.controller = controller;
    this.ids = ids;
    this.reported = reported;
    this.maxReplicas = maxReplicas;
    this.maxStoreDownMs = maxStoreDownMs;
    for (RegionView r : snapshot.regions()) {
      Set<Long> stores = new HashSet<>();
      for (Peer p : r.region().getPeersList()) {
        stores.add(p.getStoreId());
      }
      long leaderStore = r.leaderStore();
      Operator op = controller.running(r.id()).orElse(null);
      if (op != null) {
        influence(op, stores);
        leaderStore = op.leaderToStore() != 0 ? op.leaderToStore() : leaderStore;
      }
      for (long s : stores) {
        regionCount.merge(s, 1, Integer::sum);
        regionSize.merge(s, weight(r), Long::sum);
      }
      if (leaderStore != 0) {
        leaderCount.merge(leaderStore, 1, Integer::sum);
      }
    }
  }

  private static void influence(Operator op, Set<Long> stores) {
    if (op.addsStore() != 0) {
      stores.add(op.addsStore());
    }
    if (op.removesStore() != 0) {
      stores.remove(op.removesStore());
    }
  }

  /** A region's size for balancing: its approximate size, at least 1 MiB (empty regions still cost). */
  public static long weight(RegionView r) {
    return Math.max(r.approximateSize(), 1L << 20);
  }

  public ClusterSnapshot snapshot() {
    return snapshot;
  }

  public OperatorController controller() {
    return controller;
  }

  public long nowMs() {
    return snapshot.nowMs();
  }

  public int maxReplicas() {
    return maxReplicas;
  }

  public long maxStoreDownMs() {
    return maxStoreDownMs;
  }

  /** Regions with a peer on the store, counting running operators as done. */
  public int regionCount(long storeId) {
    return regionCount.getOrDefault(storeId, 0);
  }

  /** Sum of {@link #weight}s of those regions. */
  public long regionSize(long storeId) {
    return regionSize.getOrDefault(storeId, 0L);
  }

  /** Leaders on the store, counting running operators as done. */
  public int leaderCount(long storeId) {
    return leaderCount.getOrDefault(storeId, 0);
  }

  /** Up, heard from within the down time: may receive replicas and leaders. */
  public boolean isHealthyTarget(long storeId) {
    StoreView s = snapshot.store(storeId);
    return s != null && s.isUp() && !s.isDown(maxStoreDownMs);
  }

  /** Down, Offline, Tombstone or unknown: its replicas should move away. */
  public boolean isBadStore(long storeId) {
    StoreView s = snapshot.store(storeId);
    return s == null || !s.isUp() || s.isDown(maxStoreDownMs);
  }

  /** Whether {@code storeId} may receive another snapshot now. */
  public boolean canReceive(long storeId) {
    return Math.max(controller.receivingLoad(storeId), reported.receiving(storeId))
        < controller.settings().storeLimitReceive;
  }

  /** Whether {@code storeId} may send another snapshot now. */
  public boolean canSend(long storeId) {
    return Math.max(controller.sendingLoad(storeId), reported.sending(storeId)) < controller.settings().storeLimitSend;
  }

  public Operators.Meta meta(String origin, io.flotilla.engine.proto.OperatorKind kind) {
    return new Operators.Meta(ids.next(), origin, nowMs(), controller.timeoutFor(kind));
  }

  public long newId() {
    return ids.next();
  }

  /**
   * Starts {@code op} and counts its influence; false if the controller refused it (the region has
   * an operator, or a snapshot limit).
   */
  public boolean start(Operator op) {
    if (controller.add(op, reported) != null) {
      return false;
    }
    RegionView r = snapshot.region(op.regionId());
    if (r != null) {
      if (op.addsStore() != 0) {
        regionCount.merge(op.addsStore(), 1, Integer::sum);
        regionSize.merge(op.addsStore(), weight(r), Long::sum);
      }
      if (op.removesStore() != 0) {
        regionCount.merge(op.removesStore(), -1, Integer::sum);
        regionSize.merge(op.removesStore(), -weight(r), Long::sum);
      }
      if (op.leaderToStore() != 0 && r.leaderStore() != 0) {
        leaderCount.merge(r.leaderStore(), -1, Integer::sum);
        leaderCount.merge(op.leaderToStore(), 1, Integer::sum);
      }
    }
    return true;
  }

  /** Whether the region has a running operator, or PD's meta of it lags its last heartbeat. */
  public boolean isBusy(RegionView r) {
    return controller.running(r.id()).isPresent() || controller.isBehind(r);
  }

  /** Whether every peer of the region is a healthy voter or learner, none pending or down, not joint. */
  public static boolean isSettled(RegionView r) {
    if (r.inJoint() || r.leader() == null) {
      return false;
    }
    for (Peer p : r.region().getPeersList()) {
      if (!r.isHealthy(p.getId())) {
        return false;
      }
      if (p.getRole() != PeerRole.PEER_ROLE_VOTER) {
        return false;
      }
    }
    return true;
  }
}
