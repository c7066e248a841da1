package io.flotilla.region.server;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.client.PdException;
import io.flotilla.engine.proto.AskSplitResponse;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory PD for store tests: an id allocator, stores, regions by id (updated by bootstrap,
 * split reports and heartbeats with a newer epoch), and records of what stores reported. {@link
 * #unreachable} makes every call fail as if PD were down.
 */
final class FakePdClient implements PdClient {
  final AtomicLong nextId = new AtomicLong(1);
  final Map<Long, Store> stores = new ConcurrentHashMap<>();
  final Map<Long, Region> regions = new ConcurrentHashMap<>();
  final List<Region[]> splitReports = new CopyOnWriteArrayList<>();
  final List<RegionHeartbeatRequest> regionHeartbeats = new CopyOnWriteArrayList<>();
  final List<StoreStats> storeHeartbeats = new CopyOnWriteArrayList<>();
  volatile boolean bootstrapped;
  volatile boolean unreachable;
  /** Operator steps per region, answered to its heartbeats in order (see {@link #queueStep}). */
  final Map<Long, java.util.concurrent.ConcurrentLinkedDeque<QueuedStep>> steps = new ConcurrentHashMap<>();
  private final AtomicLong operatorIds = new AtomicLong(1000);

  /** A step PD answers every heartbeat of its region with until a heartbeat shows it is {@code done}. */
  record QueuedStep(RegionHeartbeatResponse response, java.util.function.Predicate<RegionHeartbeatRequest> done) {}

  /**
   * Queues a step for {@code regionId} (like one step of a PD operator): heartbeats of the region
   * are answered with it until one satisfies {@code done}; then the next queued step is answered.
   */
  void queueStep(long regionId, RegionHeartbeatResponse.Builder step,
      java.util.function.Predicate<RegionHeartbeatRequest> done) {
    RegionHeartbeatResponse r = step.setRegionId(regionId).setOperatorId(operatorIds.incrementAndGet()).build();
    steps.computeIfAbsent(regionId, k -> new java.util.concurrent.ConcurrentLinkedDeque<>())
        .add(new QueuedStep(r, done));
  }

  /** Whether every queued step of the region was seen done. */
  boolean stepsDone(long regionId) {
    var q = steps.get(regionId);
    return q == null || q.isEmpty();
  }

  private <T> CompletableFuture<T> ok(T v) {
    if (unreachable) {
      return CompletableFuture.failedFuture(new java.net.ConnectException("fake PD is unreachable"));
    }
    return CompletableFuture.completedFuture(v);
  }

  private static <T> CompletableFuture<T> error(PdErrorType type, String msg) {
    return CompletableFuture.failedFuture(new PdException(type, msg));
  }

  @Override
  public long clusterId() {
    return 42;
  }

  @Override
  public CompletableFuture<Boolean> isBootstrapped() {
    return ok(bootstrapped);
  }

  @Override
  public synchronized CompletableFuture<Void> bootstrap(Store store, Region firstRegion) {
    if (unreachable) {
      return ok(null);
    }
    if (bootstrapped) {
      return error(PdErrorType.PD_ERROR_ALREADY_BOOTSTRAPPED, "already bootstrapped");
    }
    stores.put(store.getId(), store);
    regions.put(firstRegion.getId(), firstRegion);
    bootstrapped = true;
    return ok(null);
  }

  @Override
  public CompletableFuture<Long> allocIds(int count) {
    if (unreachable) {
      return ok(0L);
    }
    return ok(nextId.getAndAdd(count));
  }

  @Override
  public CompletableFuture<Void> putStore(Store store) {
    if (unreachable) {
      return ok(null);
    }
    stores.put(store.getId(), store);
    return ok(null);
  }

  @Override
  public CompletableFuture<StoreInfo> getStore(long storeId) {
    Store s = stores.get(storeId);
    if (s == null) {
      return unreachable ? ok(null) : error(PdErrorType.PD_ERROR_STORE_NOT_FOUND, "store " + storeId);
    }
    return ok(StoreInfo.newBuilder().setStore(s).build());
  }

  @Override
  public CompletableFuture<List<StoreInfo>> getStores(boolean excludeTombstones) {
    List<StoreInfo> out = new ArrayList<>();
    stores.values().forEach(s -> out.add(StoreInfo.newBuilder().setStore(s).build()));
    return ok(out);
  }

  @Override
  public CompletableFuture<Void> storeHeartbeat(StoreStats stats) {
    if (!unreachable) {
      storeHeartbeats.add(stats);
    }
    return ok(null);
  }

  @Override
  public CompletableFuture<RegionHeartbeatResponse> regionHeartbeat(RegionHeartbeatRequest request) {
    if (unreachable) {
      return ok(null);
    }
    regionHeartbeats.add(request);
    regions.merge(request.getRegion().getId(), request.getRegion(),
        (old, neu) -> neu.getEpoch().getVersion() > old.getEpoch().getVersion()
            || (neu.getEpoch().getVersion() == old.getEpoch().getVersion()
                && neu.getEpoch().getConfVer() >= old.getEpoch().getConfVer()) ? neu : old);
    var q = steps.get(request.getRegion().getId());
    synchronized (this) {
      while (q != null && !q.isEmpty() && q.peek().done().test(request)) {
        q.poll();
      }
      QueuedStep head = q == null ? null : q.peek();
      if (head != null) {
        return ok(head.response());
      }
    }
    return ok(RegionHeartbeatResponse.newBuilder().setRegionId(request.getRegion().getId()).build());
  }

  @Override
  public CompletableFuture<Optional<RegionInfo>> getRegion(byte[] key) {
    return ok(Optional.empty());
  }

  @Override
  public CompletableFuture<Optional<RegionInfo>> getRegionById(long regionId) {
    Region r = regions.get(regionId);
    return ok(r == null ? Optional.empty() : Optional.of(RegionInfo.newBuilder().setRegion(r).build()));
  }

  @Override
  public CompletableFuture<List<RegionInfo>> scanRegions(byte[] startKey, byte[] endKey, int limit) {
    return ok(List.of());
  }

  @Override
  public CompletableFuture<AskSplitResponse> askSplit(Region region) {
    if (unreachable) {
      return ok(null);
    }
    long newRegion = nextId.getAndIncrement();
    AskSplitResponse.Builder b = AskSplitResponse.newBuilder().setNewRegionId(newRegion);
    for (int i = 0; i < region.getPeersCount(); i++) {
      b.addNewPeerIds(nextId.getAndIncrement());
    }
    return ok(b.build());
  }

  @Override
  public CompletableFuture<Void> reportSplit(Region left, Region right) {
    if (!unreachable) {
      splitReports.add(new Region[] {left, right});
      regions.put(left.getId(), left);
      regions.put(right.getId(), right);
    }
    return ok(null);
  }

  @Override
  public void close() {}
}
