package io.flotilla.router;

import io.flotilla.router.Requests.Page;
import io.flotilla.router.Requests.ScanPage;
import io.flotilla.router.cache.Keys;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A scan over [from, to), forward or reverse, fetched page by page across regions. Each key of the
 * range comes exactly once and in order, even while regions split or move under it: a page is
 * asked of the region that holds the resume point as the store sees it (a stale region answers
 * EpochNotMatch, and the cursor's region is found again), and the next page resumes right after
 * the last key returned (forward: at its successor {@code key + 0x00}; reverse: below it).
 *
 * <p>A page is over when its region's part of the range is: the store returns fewer pairs than
 * asked only when it has no more in the region (the contract of kv.scan the router relies on).
 * Not a snapshot: each page reads the latest data.
 *
 * <p>Threads: one {@link #nextPage} at a time; any thread.
 */
public final class AsyncScanner {

  private final RouterContext ctx;
  private final byte[] from;
  private final byte[] to;
  private final boolean reverse;
  private byte[] cursor;
  private long remaining;
  private boolean done;
  private boolean busy;

  AsyncScanner(RouterContext ctx, byte[] from, byte[] to, boolean reverse, int limit) {
    this.ctx = ctx;
    this.from = from;
    this.to = to;
    this.reverse = reverse;
    this.cursor = reverse ? to : from;
    this.remaining = limit <= 0 ? Long.MAX_VALUE : limit;
    this.done = to.length != 0 && Keys.compare(from, to) >= 0;
  }

  /**
   * The next entries in scan order: a non-empty list, or an empty one when the scan is over. Each
   * call has the client's deadline.
   */
  public synchronized CompletableFuture<List<KvEntry>> nextPage() {
    if (busy) {
      throw new IllegalStateException("nextPage() called while the previous page is in flight");
    }
    if (done) {
      return CompletableFuture.completedFuture(List.of());
    }
    busy = true;
    long deadline = System.nanoTime() + ctx.config().timeout().toNanos();
    return fetch(deadline).whenComplete((page, error) -> {
      synchronized (this) {
        busy = false;
      }
    });
  }

  /** Whether the scan is over (the next page is empty). */
  public synchronized boolean isDone() {
    return done;
  }

  /** Every remaining entry, in scan order (for bounded scans: the list is held in memory). */
  public CompletableFuture<List<KvEntry>> toList() {
    return drain(new ArrayList<>());
  }

  private CompletableFuture<List<KvEntry>> drain(List<KvEntry> into) {
    return nextPage().thenCompose(page -> {
      if (page.isEmpty()) {
        return CompletableFuture.completedFuture(into);
      }
      into.addAll(page);
      return drain(into);
    });
  }

  private CompletableFuture<List<KvEntry>> fetch(long deadline) {
    int ask = (int) Math.min(ctx.config().scanPageSize(), remaining);
    ScanPage request;
    synchronized (this) {
      request = new ScanPage(from, to, cursor, reverse, ask);
    }
    return RegionCall.run(ctx, request, deadline).thenCompose(page -> {
      List<KvEntry> entries = advance(page);
      if (entries.isEmpty() && !isDone()) {
        if (System.nanoTime() - deadline >= 0) {
          return CompletableFuture.failedFuture(new DeadlineExceededException(
              "scan found no keys in the regions it visited within " + ctx.config().timeout()
                  .toMillis() + " ms; it is still before " + Keys.describe(cursor), null));
        }
        return fetch(deadline);
      }
      return CompletableFuture.completedFuture(entries);
    });
  }

  /** Moves the cursor past {@code page} and returns its entries inside the scan's range. */
  private synchronized List<KvEntry> advance(Page page) {
    List<KvEntry> raw = page.entries();
    List<KvEntry> inRange = new ArrayList<>(raw.size());
    for (KvEntry e : raw) {
      if (inRange.size() < remaining && inRange(e.key())) {
        inRange.add(e);
      }
    }
    remaining -= inRange.size();
    if (remaining <= 0) {
      done = true;
    } else if (raw.size() >= page.asked()) {
      byte[] last = raw.get(raw.size() - 1).key();
      cursor = reverse ? last : Keys.successor(last);
    } else if (reverse) {
      byte[] regionStart = page.region().startKey();
      done = regionStart.length == 0 || Keys.compare(regionStart, from) <= 0;
      cursor = regionStart;
    } else {
      byte[] regionEnd = page.region().endKey();
      done = Keys.endCovers(regionEnd, to);
      cursor = regionEnd;
    }
    if (!done) {
      done = reverse
          ? cursor.length != 0 && Keys.compare(cursor, from) <= 0
          : to.length != 0 && Keys.compare(cursor, to) >= 0;
    }
    return inRange;
  }

  /** Whether {@code key} is in the scan's range and not before the cursor (defensive). */
  private boolean inRange(byte[] key) {
    if (reverse) {
      return Keys.compare(key, from) >= 0 && Keys.beforeEnd(key, cursor);
    }
    return Keys.compare(key, cursor) >= 0 && Keys.beforeEnd(key, to);
  }
}
