package io.flotilla.pd.server;

import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;
import io.flotilla.engine.proto.pdinternal.PdRegionRecord;
import io.flotilla.engine.proto.Peer;
import io.flotilla.pd.operator.OperatorController;
import io.flotilla.pd.operator.RegionView;
import io.flotilla.pd.schedule.StoreView;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What only the PD leader keeps, in memory and unreplicated (like TiKV's PD): store statistics and
 * last heartbeat times, region sizes, key counts, write rates and pending/down peers. A new leader starts empty (its
 * {@link #onTerm term} changed) and learns it all again from the next heartbeats.
 *
 * <p>Threads: any thread.
 */
final class LeaderRuntime {
  private record StoreRuntime(StoreStats stats, long lastHeartbeatMs) {}

  private record RegionRuntime(long approximateSize, long approximateKeys, long bytesWritten, long keysWritten,
      Set<Long> pendingPeers, Set<Long> downPeers) {}

  private final ConcurrentHashMap<Long, StoreRuntime> stores = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, RegionRuntime> regions = new ConcurrentHashMap<>();
  private long term = -1;
  private volatile long leaderSinceMs;

  /** This member leads in {@code term}; a new term forgets everything. Whether the term is new. */
  synchronized boolean onTerm(long leaderTerm, long nowMs) {
    if (leaderTerm != term) {
      term = leaderTerm;
      leaderSinceMs = nowMs;
      stores.clear();
      regions.clear();
      return true;
    }
    return false;
  }

  void storeHeartbeat(StoreStats stats, long nowMs) {
    stores.put(stats.getStoreId(), new StoreRuntime(stats, nowMs));
  }

  void regionHeartbeat(RegionHeartbeatRequest req) {
    regions.put(req.getRegion().getId(), new RegionRuntime(req.getApproximateSize(), req.getApproximateKeys(),
        req.getBytesWritten(), req.getKeysWritten(), peerIds(req.getPendingPeersList()),
        peerIds(req.getDownPeersList())));
  }

  private static Set<Long> peerIds(List<Peer> peers) {
    Set<Long> out = new HashSet<>();
    for (Peer p : peers) {
      out.add(p.getId());
    }
    return out;
  }

  /** A region as the schedulers see it: PD's meta and the last heartbeat's figures. */
  RegionView regionView(PdRegionRecord record) {
    RegionRuntime rt = regions.get(record.getRegion().getId());
    Peer leader = record.hasLeader() ? record.getLeader() : null;
    return rt == null ? RegionView.of(record.getRegion(), leader)
        : new RegionView(record.getRegion(), leader, rt.pendingPeers(), rt.downPeers(), rt.approximateSize());
  }

  /** A store as the schedulers see it; silent since its last heartbeat, or since this member leads. */
  StoreView storeView(Store store, long nowMs) {
    StoreRuntime rt = stores.get(store.getId());
    long since = rt == null ? leaderSinceMs : rt.lastHeartbeatMs();
    StoreStats stats = rt == null ? StoreStats.newBuilder().setStoreId(store.getId()).build() : rt.stats();
    return new StoreView(store, stats, Math.max(0, nowMs - since));
  }

  /** Snapshots the stores report sending and receiving. */
  OperatorController.ReportedSnapshots reportedSnapshots() {
    return new OperatorController.ReportedSnapshots() {
      @Override
      public int sending(long storeId) {
        StoreRuntime rt = stores.get(storeId);
        return rt == null ? 0 : rt.stats().getSendingSnapshots();
      }

      @Override
      public int receiving(long storeId) {
        StoreRuntime rt = stores.get(storeId);
        return rt == null ? 0 : rt.stats().getReceivingSnapshots();
      }
    };
  }

  void forgetRegion(long regionId) {
    regions.remove(regionId);
  }

  /**
   * A store with its statistics; down if not heard from for {@code maxDownMs} (counted from when
   * this member became leader if it has not heard from the store since).
   */
  StoreInfo storeInfo(Store store, long nowMs, long maxDownMs) {
    StoreRuntime rt = stores.get(store.getId());
    StoreInfo.Builder b = StoreInfo.newBuilder().setStore(store);
    long since = leaderSinceMs;
    if (rt != null) {
      b.setStats(rt.stats()).setLastHeartbeatMs(rt.lastHeartbeatMs());
      since = rt.lastHeartbeatMs();
    }
    return b.setDown(store.getState() != StoreState.STORE_STATE_TOMBSTONE && nowMs - since > maxDownMs).build();
  }

  RegionInfo regionInfo(PdRegionRecord record) {
    RegionInfo.Builder b = RegionInfo.newBuilder().setRegion(record.getRegion());
    if (record.hasLeader()) {
      b.setLeader(record.getLeader());
    }
    RegionRuntime rt = regions.get(record.getRegion().getId());
    if (rt != null) {
      b.setApproximateSize(rt.approximateSize()).setApproximateKeys(rt.approximateKeys());
    }
    return b.build();
  }
}
