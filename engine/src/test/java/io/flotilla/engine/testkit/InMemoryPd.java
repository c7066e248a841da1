package io.flotilla.engine.testkit;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.client.PdException;
import io.flotilla.engine.proto.AskSplitResponse;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreStats;
import io.flotilla.engine.transport.ConnectionLostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * An in-memory PD for store and router tests, as a {@link PdClient}: an id allocator, a timestamp
 * counter (strictly increasing, like PD's oracle, but plain integers from 1), stores, and
 * regions by id with their leaders, learnt from bootstrap, split reports and region heartbeats (a
 * region is replaced only by one with an epoch at least as new) or set by the test ({@link
 * #setRegions}: a router test decides when PD's view catches up with its stores). It records what
 * stores reported, counts the look-ups a router makes, answers region heartbeats with operator
 * steps a test queued ({@link #queueStep}), and can be made {@link #setUnreachable unreachable}.
 *
 * <p>Keys compare as unsigned bytes; an empty end key is +infinity.
 *
 * <p>Threads: any. Region look-ups and updates are serialised on this object; the public
 * collections are concurrent, for tests to read (and, for {@link #nextId}, to take ids from).
 */
public final class InMemoryPd implements PdClient {
  private static final Comparator<byte[]> KEY_ORDER = Arrays::compareUnsigned;

  public final AtomicLong nextId = new AtomicLong(1);
  /** The last timestamp handed out; {@link #getTimestamp} hands out the next integer. */
  public final AtomicLong lastTimestamp = new AtomicLong();
  public final Map<Long, Store> stores = new ConcurrentHashMap<>();
  /** Every region PD knows, by id. */
  public final Map<Long, Region> regions = new ConcurrentHashMap<>();
  /** The leader of a region, by region id, where one was reported. */
  public final Map<Long, Peer> leaders = new ConcurrentHashMap<>();
  /** Each reportSplit: {left, right}. */
  public final List<Region[]> splitReports = new CopyOnWriteArrayList<>();
  public final List<RegionHeartbeatRequest> regionHeartbeats = new CopyOnWriteArrayList<>();
  public final List<StoreStats> storeHeartbeats = new CopyOnWriteArrayList<>();
  /** Region look-ups (by key, by id, scans) and store look-ups asked of PD. */
  public final AtomicInteger regionCalls = new AtomicInteger();
  public final AtomicInteger storeCalls = new AtomicInteger();

  private final long clusterId;
  private final Map<Long, Deque<QueuedStep>> steps = new ConcurrentHashMap<>();
  private final AtomicLong operatorIds = new AtomicLong(1000);
  private volatile boolean bootstrapped;
  private volatile boolean unreachable;

  /** A step PD answers every heartbeat of its region with until a heartbeat shows it is {@code done}. */
  private record QueuedStep(RegionHeartbeatResponse response, Predicate<RegionHeartbeatRequest> done) {}

  public InMemoryPd(long clusterId) {
    this.clusterId = clusterId;
  }

  /** A bootstrapped PD that knows these regions and leaders (null: none), and nothing else. */
  public synchronized void setRegions(Map<Region, Peer> regionsWithLeaders) {
    regions.clear();
    leaders.clear();
    regionsWithLeaders.forEach((r, leader) -> {
      regions.put(r.getId(), r);
      if (leader != null) {
        leaders.put(r.getId(), leader);
      }
    });
    bootstrapped = true;
  }

  /** While set, every call fails as a PD client does when no member answers. */
  public void setUnreachable(boolean unreachable) {
    this.unreachable = unreachable;
  }

  public boolean bootstrapped() {
    return bootstrapped;
  }

  /**
   * Queues a step for {@code regionId} (like one step of a PD operator): heartbeats of the region
   * are answered with it until one satisfies {@code done}; then the next queued step is answered.
   */
  public void queueStep(long regionId, RegionHeartbeatResponse.Builder step, Predicate<RegionHeartbeatRequest> done) {
    RegionHeartbeatResponse r = step.setRegionId(regionId).setOperatorId(operatorIds.incrementAndGet()).build();
    steps.computeIfAbsent(regionId, k -> new ConcurrentLinkedDeque<>()).add(new QueuedStep(r, done));
  }

  /** Whether every queued step of the region was seen done. */
  public boolean stepsDone(long regionId) {
    Deque<QueuedStep> q = steps.get(regionId);
    return q == null || q.isEmpty();
  }

  @Override
  public long clusterId() {
    return clusterId;
  }

  @Override
  public CompletableFuture<Boolean> isBootstrapped() {
    return reply(() -> bootstrapped);
  }

  @Override
  public synchronized CompletableFuture<Void> bootstrap(Store store, Region firstRegion) {
    if (unreachable) {
      return unreachable();
    }
    if (bootstrapped) {
      return CompletableFuture.failedFuture(
          new PdException(PdErrorType.PD_ERROR_ALREADY_BOOTSTRAPPED, "already bootstrapped"));
    }
    stores.put(store.getId(), store);
    regions.put(firstRegion.getId(), firstRegion);
    bootstrapped = true;
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<Long> allocIds(int count) {
    return reply(() -> nextId.getAndAdd(count));
  }

  @Override
  public CompletableFuture<Long> getTimestamp() {
    return reply(lastTimestamp::incrementAndGet);
  }

  @Override
  public CompletableFuture<Void> putStore(Store store) {
    return reply(() -> {
      stores.put(store.getId(), store);
      return null;
    });
  }

  @Override
  public CompletableFuture<StoreInfo> getStore(long storeId) {
    storeCalls.incrementAndGet();
    if (unreachable) {
      return unreachable();
    }
    Store s = stores.get(storeId);
    if (s == null) {
      return CompletableFuture.failedFuture(new PdException(PdErrorType.PD_ERROR_STORE_NOT_FOUND, "store " + storeId));
    }
    return CompletableFuture.completedFuture(StoreInfo.newBuilder().setStore(s).build());
  }

  @Override
  public CompletableFuture<List<StoreInfo>> getStores(boolean excludeTombstones) {
    return reply(() -> stores.values().stream().map(s -> StoreInfo.newBuilder().setStore(s).build()).toList());
  }

  @Override
  public CompletableFuture<Void> storeHeartbeat(StoreStats stats) {
    return reply(() -> {
      storeHeartbeats.add(stats);
      return null;
    });
  }

  @Override
  public synchronized CompletableFuture<RegionHeartbeatResponse> regionHeartbeat(RegionHeartbeatRequest request) {
    if (unreachable) {
      return unreachable();
    }
    regionHeartbeats.add(request);
    Region reported = request.getRegion();
    Region known = regions.get(reported.getId());
    if (known == null || !olderThan(reported.getEpoch(), known.getEpoch())) {
      regions.put(reported.getId(), reported);
      if (request.hasLeader()) {
        leaders.put(reported.getId(), request.getLeader());
      }
    }
    Deque<QueuedStep> q = steps.get(reported.getId());
    while (q != null && !q.isEmpty() && q.peek().done().test(request)) {
      q.poll();
    }
    QueuedStep head = q == null ? null : q.peek();
    return CompletableFuture.completedFuture(head != null ? head.response()
        : RegionHeartbeatResponse.newBuilder().setRegionId(reported.getId()).build());
  }

  @Override
  public synchronized CompletableFuture<Optional<RegionInfo>> getRegion(byte[] key) {
    regionCalls.incrementAndGet();
    if (unreachable) {
      return unreachable();
    }
    return CompletableFuture.completedFuture(
        regions.values().stream().filter(r -> contains(r, key)).findFirst().map(this::info));
  }

  @Override
  public synchronized CompletableFuture<Optional<RegionInfo>> getRegionById(long regionId) {
    regionCalls.incrementAndGet();
    if (unreachable) {
      return unreachable();
    }
    return CompletableFuture.completedFuture(Optional.ofNullable(regions.get(regionId)).map(this::info));
  }

  @Override
  public synchronized CompletableFuture<List<RegionInfo>> scanRegions(byte[] startKey, byte[] endKey, int limit) {
    regionCalls.incrementAndGet();
    if (unreachable) {
      return unreachable();
    }
    List<RegionInfo> out = new ArrayList<>();
    regions.values().stream()
        .filter(r -> beforeEnd(r.getStartKey().toByteArray(), endKey) && beforeEnd(startKey, r.getEndKey().toByteArray()))
        .sorted(Comparator.comparing(r -> r.getStartKey().toByteArray(), KEY_ORDER))
        .limit(limit == 0 ? Long.MAX_VALUE : limit)
        .forEach(r -> out.add(info(r)));
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public CompletableFuture<AskSplitResponse> askSplit(Region region) {
    return reply(() -> {
      AskSplitResponse.Builder b = AskSplitResponse.newBuilder().setNewRegionId(nextId.getAndIncrement());
      for (int i = 0; i < region.getPeersCount(); i++) {
        b.addNewPeerIds(nextId.getAndIncrement());
      }
      return b.build();
    });
  }

  @Override
  public synchronized CompletableFuture<Void> reportSplit(Region left, Region right) {
    if (unreachable) {
      return unreachable();
    }
    splitReports.add(new Region[] {left, right});
    regions.put(left.getId(), left);
    regions.put(right.getId(), right);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void close() {}

  private RegionInfo info(Region r) {
    RegionInfo.Builder b = RegionInfo.newBuilder().setRegion(r);
    Peer leader = leaders.get(r.getId());
    if (leader != null) {
      b.setLeader(leader);
    }
    return b.build();
  }

  private static boolean olderThan(RegionEpoch a, RegionEpoch b) {
    return a.getVersion() < b.getVersion() || (a.getVersion() == b.getVersion() && a.getConfVer() < b.getConfVer());
  }

  private static boolean contains(Region r, byte[] key) {
    return KEY_ORDER.compare(r.getStartKey().toByteArray(), key) <= 0 && beforeEnd(key, r.getEndKey().toByteArray());
  }

  /** Whether {@code key} is before {@code end}, an empty end being +infinity. */
  private static boolean beforeEnd(byte[] key, byte[] end) {
    return end.length == 0 || KEY_ORDER.compare(key, end) < 0;
  }

  private <T> CompletableFuture<T> reply(java.util.function.Supplier<T> answer) {
    return unreachable ? unreachable() : CompletableFuture.completedFuture(answer.get());
  }

  private static <T> CompletableFuture<T> unreachable() {
    return CompletableFuture.failedFuture(new ConnectionLostException("pd", false, "no PD member reachable"));
  }
}
