package io.flotilla.router.cache;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.RegionInfo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Finds the region for a key: from the {@link RegionCache} when it knows, from PD otherwise (and
 * caches what PD says). Fails with {@link RegionMissingException} when PD knows no region there,
 * and with PD's or the transport's exceptions when PD cannot be asked; the caller retries.
 *
 * <p>Threads: any thread; PD's futures complete on transport threads, and so do the ones returned
 * here (the work done on them is a map insert).
 */
public final class RegionLocator {

  private final RegionCache cache;
  private final PdClient pd;
  private final LongAdder pdLookups = new LongAdder();

  public RegionLocator(RegionCache cache, PdClient pd) {
    this.cache = cache;
    this.pd = pd;
  }

  public RegionCache cache() {
    return cache;
  }

  /** PD region look-ups made so far (the cache's misses). */
  public long pdLookups() {
    return pdLookups.sum();
  }

  /** The region holding {@code key}. */
  public CompletableFuture<CachedRegion> locate(byte[] key) {
    CachedRegion hit = cache.find(key);
    if (hit != null) {
      return CompletableFuture.completedFuture(hit);
    }
    pdLookups.increment();
    return pd.getRegion(key).thenApply(info -> cacheHolding(info, key));
  }

  /**
   * The region holding the keys just below {@code cursor} (exclusive; empty: plus infinity), for a
   * reverse scan whose lower bound is {@code lowerBound}. PD is asked for the region holding the
   * cursor; when that region starts at the cursor (or the cursor is plus infinity) it is asked for
   * every region in [lowerBound, cursor), which are all cached, since a reverse scan visits them.
   */
  public CompletableFuture<CachedRegion> locateBefore(byte[] cursor, byte[] lowerBound) {
    CachedRegion hit = cache.findBefore(cursor);
    if (hit != null) {
      return CompletableFuture.completedFuture(hit);
    }
    pdLookups.increment();
    CompletableFuture<Optional<RegionInfo>> holdingCursor = cursor.length == 0
        ? CompletableFuture.completedFuture(Optional.empty())
        : pd.getRegion(cursor);
    return holdingCursor.thenCompose(info -> {
      if (info.isPresent() && Keys.compare(info.get().getRegion().getStartKey().toByteArray(),
          cursor) < 0) {
        return CompletableFuture.completedFuture(cacheBefore(List.of(info.get()), cursor));
      }
      return pd.scanRegions(lowerBound, cursor, 0).thenApply(all -> cacheBefore(all, cursor));
    });
  }

  private CachedRegion cacheHolding(Optional<RegionInfo> info, byte[] key) {
    if (info.isEmpty()) {
      throw new RegionMissingException("PD knows no region holding key " + Keys.describe(key));
    }
    CachedRegion r = cacheInfo(info.get());
    if (!r.contains(key)) {
      throw new RegionMissingException("PD answered " + r + " for key " + Keys.describe(key));
    }
    return r;
  }

  private CachedRegion cacheBefore(List<RegionInfo> infos, byte[] cursor) {
    CachedRegion found = null;
    for (RegionInfo info : infos) {
      CachedRegion r = cacheInfo(info);
      if (r.holdsKeysBefore(cursor)) {
        found = r;
      }
    }
    if (found == null) {
      throw new RegionMissingException("PD knows no region holding the keys before "
          + (cursor.length == 0 ? "the end" : Keys.describe(cursor)));
    }
    return found;
  }

  /** Caches PD's answer; when the cache holds something newer for that id, answers PD's anyway. */
  private CachedRegion cacheInfo(RegionInfo info) {
    CachedRegion cached = cache.put(info.getRegion(), info.hasLeader() ? info.getLeader() : null);
    return cached != null ? cached : new CachedRegion(info.getRegion(),
        info.hasLeader() ? info.getLeader() : null);
  }
}
