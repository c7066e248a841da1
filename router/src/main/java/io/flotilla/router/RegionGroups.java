package io.flotilla.router;

import io.flotilla.router.cache.CachedRegion;
import io.flotilla.router.cache.RegionLocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Splits sorted keys into runs that fall in one region each. Since regions are contiguous ranges,
 * a run ends at the first key its region does not hold; one look-up per run (from the cache
 * usually). If a look-up fails, the rest of the keys form one run: the {@link RegionCall} sending
 * it retries the look-up with backoff and, if the keys span several regions by then, hands them
 * back to be split again ({@link RegionChangedException}).
 */
final class RegionGroups {

  private RegionGroups() {}

  static CompletableFuture<List<List<byte[]>>> of(RegionLocator locator, List<byte[]> sortedKeys) {
    List<List<byte[]>> groups = new ArrayList<>();
    return from(locator, sortedKeys, 0, groups).thenApply(v -> groups);
  }

  private static CompletableFuture<Void> from(RegionLocator locator, List<byte[]> keys, int at,
      List<List<byte[]>> groups) {
    int i = at;
    while (i < keys.size()) {
      CompletableFuture<CachedRegion> located = locator.locate(keys.get(i));
      if (!located.isDone()) {
        int next = i;
        return located.handle((region, error) -> take(keys, next, error == null ? region : null,
                groups))
            .thenCompose(after -> from(locator, keys, after, groups));
      }
      CachedRegion region = located.isCompletedExceptionally() ? null : located.join();
      i = take(keys, i, region, groups);
    }
    return CompletableFuture.completedFuture(null);
  }

  /** Adds the run starting at {@code at} that {@code region} holds (null: all the rest). */
  private static int take(List<byte[]> keys, int at, CachedRegion region,
      List<List<byte[]>> groups) {
    int end = at + 1;
    if (region == null) {
      end = keys.size();
    } else {
      while (end < keys.size() && region.contains(keys.get(end))) {
        end++;
      }
    }
    groups.add(keys.subList(at, end));
    return end;
  }
}
