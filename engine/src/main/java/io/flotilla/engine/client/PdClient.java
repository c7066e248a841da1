package io.flotilla.engine.client;

import io.flotilla.engine.proto.AskSplitResponse;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreStats;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The placement driver as stores, routers and tools see it (RPCs of {@code pd.proto}). An
 * implementation finds the PD leader, follows NOT_LEADER redirects and fails over to other PD
 * members; it fails a future with {@link PdException} (typed by {@link
 * io.flotilla.engine.proto.PdErrorType}) when PD answers with an error, and with the transport's
 * exceptions when no member could be reached within the call's deadline.
 *
 * <p>Threads: any thread. Futures may complete on transport threads: do not block in them.
 */
public interface PdClient extends AutoCloseable {

  /** The cluster id PD answered with (0 until the first successful call). */
  long clusterId();

  CompletableFuture<Boolean> isBootstrapped();

  /** Registers the first store and the first region; fails with ALREADY_BOOTSTRAPPED if done. */
  CompletableFuture<Void> bootstrap(Store store, Region firstRegion);

  /** {@code count} fresh ids; returns the first (the others follow it consecutively). */
  CompletableFuture<Long> allocIds(int count);

  default CompletableFuture<Long> allocId() {
    return allocIds(1);
  }

  /**
   * A fresh timestamp from PD's oracle ({@link io.flotilla.engine.Timestamps}): greater than every
   * timestamp any client was handed before this call began, and unique. Callers that ask while one
   * request is in flight are served together by the next one.
   */
  CompletableFuture<Long> getTimestamp();

  CompletableFuture<Void> putStore(Store store);

  /** Fails with STORE_NOT_FOUND if PD does not know the store. */
  CompletableFuture<StoreInfo> getStore(long storeId);

  CompletableFuture<List<StoreInfo>> getStores(boolean excludeTombstones);

  CompletableFuture<Void> storeHeartbeat(StoreStats stats);

  CompletableFuture<RegionHeartbeatResponse> regionHeartbeat(RegionHeartbeatRequest request);

  /** The region holding {@code key}, empty if none does (not bootstrapped or a gap). */
  CompletableFuture<Optional<RegionInfo>> getRegion(byte[] key);

  CompletableFuture<Optional<RegionInfo>> getRegionById(long regionId);

  /**
   * Regions overlapping [{@code startKey}, {@code endKey}) in key order ({@code endKey} empty: to
   * the end), at most {@code limit} (0: all).
   */
  CompletableFuture<List<RegionInfo>> scanRegions(byte[] startKey, byte[] endKey, int limit);

  CompletableFuture<AskSplitResponse> askSplit(Region region);

  CompletableFuture<Void> reportSplit(Region left, Region right);

  @Override
  void close();
}
