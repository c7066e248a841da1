package io.flotilla.router;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.AskSplitResponse;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreStats;
import io.flotilla.router.cache.Keys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PD as the router sees it, over a {@link FakeCluster}: its region map is a copy taken at {@link
 * #sync} (the cluster syncs it on every change unless told to let it lag). Counts the calls.
 */
final class FakePdClient implements PdClient {

  private final FakeCluster cluster;
  private NavigableMap<byte[], RegionInfo> regions = new TreeMap<>(Keys.ORDER);
  final AtomicInteger regionCalls = new AtomicInteger();
  final AtomicInteger storeCalls = new AtomicInteger();
  private volatile boolean unavailable;

  FakePdClient(FakeCluster cluster) {
    this.cluster = cluster;
  }

  /** Takes the stores' current regions and leaders. */
  void sync() {
    NavigableMap<byte[], RegionInfo> fresh = new TreeMap<>(Keys.ORDER);
    for (Map.Entry<Region, Peer> e : cluster.snapshot().entrySet()) {
      RegionInfo.Builder info = RegionInfo.newBuilder().setRegion(e.getKey());
      if (e.getValue() != null) {
        info.setLeader(e.getValue());
      }
      fresh.put(e.getKey().getStartKey().toByteArray(), info.build());
    }
    synchronized (this) {
      regions = fresh;
    }
  }

  /** While set, region and store calls fail (as a PD client does when no member answers). */
  void setUnavailable(boolean unavailable) {
    this.unavailable = unavailable;
  }

  int regionCalls() {
    return regionCalls.get();
  }

  @Override
  public synchronized CompletableFuture<Optional<RegionInfo>> getRegion(byte[] key) {
    regionCalls.incrementAndGet();
    if (unavailable) {
      return unavailable();
    }
    Map.Entry<byte[], RegionInfo> e = regions.floorEntry(key);
    if (e == null || !FakeCluster.contains(e.getValue().getRegion(), key)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return CompletableFuture.completedFuture(Optional.of(e.getValue()));
  }

  @Override
  public synchronized CompletableFuture<Optional<RegionInfo>> getRegionById(long regionId) {
    regionCalls.incrementAndGet();
    return CompletableFuture.completedFuture(regions.values().stream()
        .filter(r -> r.getRegion().getId() == regionId).findFirst());
  }

  @Override
  public synchronized CompletableFuture<List<RegionInfo>> scanRegions(byte[] startKey,
      byte[] endKey, int limit) {
    regionCalls.incrementAndGet();
    if (unavailable) {
      return unavailable();
    }
    List<RegionInfo> out = new ArrayList<>();
    for (RegionInfo info : regions.values()) {
      byte[] start = info.getRegion().getStartKey().toByteArray();
      byte[] end = info.getRegion().getEndKey().toByteArray();
      boolean overlaps = Keys.beforeEnd(start, endKey) && Keys.beforeEnd(startKey, end);
      if (overlaps && (limit == 0 || out.size() < limit)) {
        out.add(info);
      }
    }
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public CompletableFuture<StoreInfo> getStore(long storeId) {
    storeCalls.incrementAndGet();
    if (unavailable) {
      return unavailable();
    }
    var address = cluster.address(storeId);
    return CompletableFuture.completedFuture(StoreInfo.newBuilder()
        .setStore(Store.newBuilder().setId(storeId)
            .setAddress(address.getHostString() + ":" + address.getPort()))
        .build());
  }

  private static <T> CompletableFuture<T> unavailable() {
    return CompletableFuture.failedFuture(new io.flotilla.engine.transport.ConnectionLostException(
        "pd", false, "no PD member reachable"));
  }

  @Override
  public long clusterId() {
    return 1;
  }

  @Override
  public CompletableFuture<Boolean> isBootstrapped() {
    return CompletableFuture.completedFuture(true);
  }

  @Override
  public CompletableFuture<Void> bootstrap(Store store, Region firstRegion) {
    return unsupported();
  }

  @Override
  public CompletableFuture<Long> allocIds(int count) {
    return unsupported();
  }

  @Override
  public CompletableFuture<Void> putStore(Store store) {
    return unsupported();
  }

  @Override
  public CompletableFuture<List<StoreInfo>> getStores(boolean excludeTombstones) {
    return unsupported();
  }

  @Override
  public CompletableFuture<Void> storeHeartbeat(StoreStats stats) {
    return unsupported();
  }

  @Override
  public CompletableFuture<RegionHeartbeatResponse> regionHeartbeat(
      RegionHeartbeatRequest request) {
    return unsupported();
  }

  @Override
  public CompletableFuture<AskSplitResponse> askSplit(Region region) {
    return unsupported();
  }

  @Override
  public CompletableFuture<Void> reportSplit(Region left, Region right) {
    return unsupported();
  }

  @Override
  public void close() {}

  private static <T> CompletableFuture<T> unsupported() {
    return CompletableFuture.failedFuture(
        new UnsupportedOperationException("not used by the router"));
  }
}
