package io.flotilla.tools.ctl;

import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.StringJoiner;

/**
 * {@code cluster health}'s judgement, a function of what PD answered (no I/O, so tests feed it
 * made-up clusters).
 *
 * <p>Unhealthy: no stores or no regions (not bootstrapped), an Up store that is down, a region with
 * fewer voters than {@code maxReplicas}, a region with a peer on a store that is down, a tombstone or
 * unknown, a region without a known leader. Running operators and draining (Offline) stores are
 * reported but are normal work, not a fault.
 *
 * @param storeCounts up, down, offline, tombstone: how many stores of each kind
 * @param downStores Up stores PD has not heard from for longer than its down time
 * @param offlineStores stores being drained
 * @param regionCount every region PD knows
 * @param maxReplicas voters each region should have
 * @param maxReplicasFromPd whether {@code maxReplicas} came from the replica-checker's setting
 * @param underReplicated regions with fewer voters than {@code maxReplicas}
 * @param onDownStores regions with a peer on a down, tombstone or unknown store
 * @param leaderless regions PD knows no leader of
 * @param runningOperators operators running, empty when PD did not say
 * @param verdict one line: "healthy" (with what is going on, if anything), or "unhealthy: " what is
 *     wrong and what to do
 */
record Health(
    Map<String, Integer> storeCounts,
    List<StoreInfo> downStores,
    List<Long> offlineStores,
    int regionCount,
    int maxReplicas,
    boolean maxReplicasFromPd,
    List<Long> underReplicated,
    List<Long> onDownStores,
    List<Long> leaderless,
    OptionalInt runningOperators,
    String verdict) {

  /** Voters expected per region when PD does not list the replica-checker's max-replicas. */
  static final int DEFAULT_MAX_REPLICAS = 3;

  boolean healthy() {
    return verdict.startsWith("healthy");
  }

  static Health assess(List<StoreInfo> stores, List<RegionInfo> regions, OptionalInt maxReplicasSetting,
      OptionalInt runningOperators) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String k : List.of("up", "down", "offline", "tombstone")) {
      counts.put(k, 0);
    }
    List<StoreInfo> down = new ArrayList<>();
    List<Long> offline = new ArrayList<>();
    Set<Long> usable = new HashSet<>();
    int upStores = 0;
    for (StoreInfo s : stores) {
      long id = s.getStore().getId();
      StoreState state = s.getStore().getState();
      if (state == StoreState.STORE_STATE_TOMBSTONE) {
        counts.merge("tombstone", 1, Integer::sum);
      } else if (state == StoreState.STORE_STATE_OFFLINE) {
        counts.merge("offline", 1, Integer::sum);
        offline.add(id);
        if (!s.getDown()) {
          usable.add(id);
        }
      } else if (s.getDown()) {
        counts.merge("down", 1, Integer::sum);
        down.add(s);
      } else {
        counts.merge("up", 1, Integer::sum);
        usable.add(id);
        upStores++;
      }
    }
    int maxReplicas = maxReplicasSetting.orElse(DEFAULT_MAX_REPLICAS);
    List<Long> under = new ArrayList<>();
    List<Long> onDown = new ArrayList<>();
    List<Long> leaderless = new ArrayList<>();
    for (RegionInfo r : regions) {
      long id = r.getRegion().getId();
      int voters = 0;
      boolean peerOnDown = false;
      for (Peer p : r.getRegion().getPeersList()) {
        if (p.getRole() == PeerRole.PEER_ROLE_VOTER || p.getRole() == PeerRole.PEER_ROLE_INCOMING_VOTER) {
          voters++;
        }
        peerOnDown |= !usable.contains(p.getStoreId());
      }
      if (voters < maxReplicas) {
        under.add(id);
      }
      if (peerOnDown) {
        onDown.add(id);
      }
      if (!r.hasLeader()) {
        leaderless.add(id);
      }
    }
    String verdict = verdict(stores.size(), regions.size(), upStores, down, offline, maxReplicas, under, onDown,
        leaderless, runningOperators);
    return new Health(counts, down, offline, regions.size(), maxReplicas, maxReplicasSetting.isPresent(), under,
        onDown, leaderless, runningOperators, verdict);
  }

  private static String verdict(int storeCount, int regionCount, int upStores, List<StoreInfo> down,
      List<Long> offline, int maxReplicas, List<Long> under, List<Long> onDown, List<Long> leaderless,
      OptionalInt runningOperators) {
    if (storeCount == 0 || regionCount == 0) {
      return "unhealthy: the cluster is not bootstrapped (" + storeCount + " stores, " + regionCount
          + " regions): start at least " + DEFAULT_MAX_REPLICAS + " stores against this PD";
    }
    List<String> wrong = new ArrayList<>();
    List<String> todo = new ArrayList<>();
    if (!down.isEmpty()) {
      String ids = ids(down.stream().map(s -> s.getStore().getId()).toList());
      wrong.add((down.size() == 1 ? "store " + ids + " is" : "stores " + ids + " are") + " down");
      todo.add("restart " + (down.size() == 1 ? "store " : "stores ") + ids + ", or if gone for good `flotilla ctl "
          + "store offline ID` so PD re-replicates its regions");
    }
    if (!onDown.isEmpty()) {
      wrong.add(count(onDown.size(), "region") + " with a peer on a down or removed store (" + ids(onDown) + ")");
    }
    if (!under.isEmpty()) {
      wrong.add(count(under.size(), "region") + " with fewer than " + maxReplicas + " voters (" + ids(under) + ")");
      if (upStores < maxReplicas) {
        todo.add("add stores: " + upStores + " up, each region wants " + maxReplicas);
      } else if (down.isEmpty()) {
        todo.add("check that the replica-checker runs (`flotilla ctl scheduler list`, `flotilla ctl operator list`)");
      }
    }
    if (!leaderless.isEmpty()) {
      wrong.add(count(leaderless.size(), "region") + " without a known leader (" + ids(leaderless) + ")");
      if (down.isEmpty()) {
        todo.add("if it lasts more than a few seconds, check the logs of the stores holding them "
            + "(`flotilla ctl region show ID`)");
      }
    }
    if (wrong.isEmpty()) {
      List<String> notes = new ArrayList<>();
      runningOperators.ifPresent(n -> {
        if (n > 0) {
          notes.add(count(n, "operator") + " running");
        }
      });
      if (!offline.isEmpty()) {
        notes.add((offline.size() == 1 ? "store " : "stores ") + ids(offline) + " draining");
      }
      return notes.isEmpty() ? "healthy" : "healthy (" + String.join("; ", notes) + ")";
    }
    return "unhealthy: " + String.join("; ", wrong) + (todo.isEmpty() ? "" : ". To do: " + String.join("; ", todo));
  }

  private static String count(int n, String what) {
    return n + " " + what + (n == 1 ? "" : "s");
  }

  /** Up to 10 ids, comma-separated, then how many more. */
  static String ids(List<Long> ids) {
    StringJoiner j = new StringJoiner(", ");
    for (int i = 0; i < Math.min(10, ids.size()); i++) {
      j.add(Long.toString(ids.get(i)));
    }
    return ids.size() > 10 ? j + " and " + (ids.size() - 10) + " more" : j.toString();
  }
}
