package io.flotilla.pd.schedule;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChange;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;
import io.flotilla.pd.operator.Operator;
import io.flotilla.pd.operator.OperatorController;
import io.flotilla.pd.operator.OperatorSettings;
import io.flotilla.pd.operator.RegionView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A simulated cluster for scheduler tests: stores and regions in memory, a logical clock, and
 * stores that carry out every step at once (a joint configuration is left automatically, as the
 * store does). Steps a real store would refuse (demoting or removing the leader, a second peer on a
 * store) fail the test.
 */
final class SimCluster {
  long nowMs = 1_000_000;
  long nextId = 10_000;
  final Map<Long, Store> stores = new TreeMap<>();
  final Map<Long, Long> lastHeartbeatMs = new HashMap<>();
  final Map<Long, Region> regions = new TreeMap<>();
  final Map<Long, Peer> leaders = new HashMap<>();
  final Map<Long, Long> sizes = new HashMap<>();
  final Set<Long> pending = new HashSet<>();
  final OperatorController controller = new OperatorController(new OperatorSettings());
  final Coordinator coordinator = new Coordinator(controller, 30 * 60_000L);
  /** Every replica move carried out: region, from store (0 for an add), to store (0 for a remove). */
  final List<long[]> moves = new ArrayList<>();
  int leaderTransfers;
  boolean autoLeaveJoint = true;

  void addStore(long id) {
    stores.put(id, Store.newBuilder().setId(id).setAddress("127.0.0.1:" + (7000 + id)).build());
    lastHeartbeatMs.put(id, nowMs);
  }

  /** A region [start, end) with a voter on each of {@code storeIds}, led by the first. */
  Region addRegion(long id, String start, String end, long... storeIds) {
    Region.Builder b = Region.newBuilder().setId(id)
        .setStartKey(ByteString.copyFrom(start, StandardCharsets.UTF_8))
        .setEndKey(ByteString.copyFrom(end, StandardCharsets.UTF_8))
        .setEpoch(RegionEpoch.newBuilder().setVersion(1).setConfVer(1));
    for (long s : storeIds) {
      b.addPeers(Peer.newBuilder().setId(nextId++).setStoreId(s).setRole(PeerRole.PEER_ROLE_VOTER));
    }
    Region r = b.build();
    regions.put(id, r);
    leaders.put(id, r.getPeers(0));
    return r;
  }

  void setState(long storeId, StoreState state) {
    stores.put(storeId, stores.get(storeId).toBuilder().setState(state).build());
  }

  /** Every store but {@code silent} heartbeats now. */
  void heartbeatStores(long... silent) {
    Set<Long> quiet = new HashSet<>();
    for (long s : silent) {
      quiet.add(s);
    }
    for (long s : stores.keySet()) {
      if (!quiet.contains(s)) {
        lastHeartbeatMs.put(s, nowMs);
      }
    }
  }

  RegionView view(long regionId) {
    return new RegionView(regions.get(regionId), leaders.get(regionId), pending, Set.of(),
        sizes.getOrDefault(regionId, 0L));
  }

  ClusterSnapshot snapshot() {
    List<StoreView> sv = new ArrayList<>();
    for (Store s : stores.values()) {
      sv.add(new StoreView(s, StoreStats.newBuilder().setStoreId(s.getId()).build(),
          nowMs - lastHeartbeatMs.get(s.getId())));
    }
    List<RegionView> rv = new ArrayList<>();
    for (Region r : regions.values()) {
      rv.add(view(r.getId()));
    }
    return new ClusterSnapshot(nowMs, sv, rv);
  }

  /** One scheduling round; the operators it started. */
  List<Operator> round() {
    return coordinator.runRound(snapshot(), () -> nextId++, OperatorController.ReportedSnapshots.NONE,
        storeId -> {
          setState(storeId, StoreState.STORE_STATE_TOMBSTONE);
          return CompletableFuture.completedFuture(null);
        });
  }

  /** Every region heartbeats and carries out its steps until its operator has none to give. */
  void heartbeatRegions() {
    for (long id : new ArrayList<>(regions.keySet())) {
      for (int i = 0; i < 20 && regions.containsKey(id); i++) {
        RegionHeartbeatResponse resp = controller.dispatch(view(id), nowMs);
        if (resp.getOperatorId() == 0) {
          break;
        }
        execute(id, resp);
      }
    }
  }

  /** Rounds and heartbeats until a round starts nothing and nothing runs, at most {@code max} rounds. */
  int settle(int max) {
    for (int i = 1; i <= max; i++) {
      List<Operator> started = round();
      heartbeatRegions();
      nowMs += 1_000;
      heartbeatStores();
      if (started.isEmpty() && controller.running().isEmpty()) {
        return i;
      }
    }
    throw new AssertionError("not settled after " + max + " rounds; running " + controller.running());
  }

  void execute(long regionId, RegionHeartbeatResponse step) {
    Region r = regions.get(regionId);
    Peer leader = leaders.get(regionId);
    switch (step.getStepCase()) {
      case TRANSFER_LEADER -> {
        Peer to = find(r, step.getTransferLeader().getPeer().getId());
        if (to == null || to.getRole() != PeerRole.PEER_ROLE_VOTER) {
          throw new AssertionError("transfer to a non-voter " + step + " in " + r);
        }
        leaders.put(regionId, to);
        leaderTransfers++;
      }
      case CHANGE_PEERS -> regions.put(regionId, changePeers(r, leader, step.getChangePeers()));
      case SPLIT_REGION -> split(r, step.getSplitRegion().getSplitKey());
      default -> throw new AssertionError("empty step with an operator id: " + step);
    }
  }

  private Region changePeers(Region r, Peer leader, ChangePeers c) {
    Map<Long, Peer> peers = new java.util.LinkedHashMap<>();
    r.getPeersList().forEach(p -> peers.put(p.getId(), p));
    int changes = c.getChangesCount();
    if (c.getLeaveJoint() || changes == 0) {
      peers.replaceAll((id, p) -> leave(p));
    } else {
      for (PeerChange ch : c.getChangesList()) {
        Peer p = ch.getPeer();
        Peer held = peers.get(p.getId());
        switch (ch.getType()) {
          case PEER_CHANGE_ADD_LEARNER -> {
            if (held == null) {
              if (r.getPeersList().stream().anyMatch(x -> x.getStoreId() == p.getStoreId())) {
                throw new AssertionError("a second peer on store " + p.getStoreId() + ": " + c + " in " + r);
              }
              peers.put(p.getId(), p.toBuilder().setRole(PeerRole.PEER_ROLE_LEARNER).build());
              moves.add(new long[] {r.getId(), 0, p.getStoreId()});
            } else {
              if (held.getId() == leader.getId()) {
                throw new AssertionError("demoting the leader: " + c + " in " + r);
              }
              peers.put(p.getId(), held.toBuilder().setRole(changes > 1 ? PeerRole.PEER_ROLE_DEMOTING_VOTER
                  : PeerRole.PEER_ROLE_LEARNER).build());
            }
          }
          case PEER_CHANGE_ADD_VOTER -> peers.put(p.getId(), (held == null ? p : held).toBuilder()
              .setRole(changes > 1 ? PeerRole.PEER_ROLE_INCOMING_VOTER : PeerRole.PEER_ROLE_VOTER).build());
          case PEER_CHANGE_REMOVE -> {
            if (held == null || held.getId() == leader.getId()) {
              throw new AssertionError("removing the leader or a missing peer: " + c + " in " + r);
            }
            peers.remove(p.getId());
            moves.add(new long[] {r.getId(), held.getStoreId(), 0});
          }
          default -> throw new AssertionError(c.toString());
        }
      }
      if (changes > 1 && autoLeaveJoint) {
        peers.replaceAll((id, p) -> leave(p));
      }
    }
    RegionEpoch e = r.getEpoch();
    return r.toBuilder().clearPeers().addAllPeers(peers.values())
        .setEpoch(e.toBuilder().setConfVer(e.getConfVer() + Math.max(1, changes))).build();
  }

  private static Peer leave(Peer p) {
    return switch (p.getRole()) {
      case PEER_ROLE_INCOMING_VOTER -> p.toBuilder().setRole(PeerRole.PEER_ROLE_VOTER).build();
      case PEER_ROLE_DEMOTING_VOTER -> p.toBuilder().setRole(PeerRole.PEER_ROLE_LEARNER).build();
      default -> p;
    };
  }

  private void split(Region r, ByteString key) {
    if (key.isEmpty()) {
      key = ByteString.copyFrom(r.getStartKey().toStringUtf8() + "m", StandardCharsets.UTF_8);
    }
    RegionEpoch e = r.getEpoch().toBuilder().setVersion(r.getEpoch().getVersion() + 1).build();
    long newId = nextId++;
    Region.Builder right = r.toBuilder().setId(newId).setStartKey(key).setEpoch(e).clearPeers();
    for (Peer p : r.getPeersList()) {
      right.addPeers(p.toBuilder().setId(nextId++));
    }
    regions.put(r.getId(), r.toBuilder().setEndKey(key).setEpoch(e).build());
    Region rr = right.build();
    regions.put(newId, rr);
    leaders.put(newId, rr.getPeers(r.getPeersList().indexOf(leaders.get(r.getId()))));
  }

  static Peer find(Region r, long peerId) {
    return r.getPeersList().stream().filter(p -> p.getId() == peerId).findFirst().orElse(null);
  }

  /** Regions with a peer on each store. */
  Map<Long, Integer> regionCounts() {
    Map<Long, Integer> out = new TreeMap<>();
    stores.keySet().forEach(s -> out.put(s, 0));
    for (Region r : regions.values()) {
      for (Peer p : r.getPeersList()) {
        out.merge(p.getStoreId(), 1, Integer::sum);
      }
    }
    return out;
  }

  Map<Long, Integer> leaderCounts() {
    Map<Long, Integer> out = new TreeMap<>();
    stores.keySet().forEach(s -> out.put(s, 0));
    leaders.values().forEach(p -> out.merge(p.getStoreId(), 1, Integer::sum));
    return out;
  }
}
