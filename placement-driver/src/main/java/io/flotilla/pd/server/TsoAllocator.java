package io.flotilla.pd.server;

import io.flotilla.engine.Timestamps;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * The PD leader's timestamp oracle: hands out hybrid timestamps ({@link Timestamps}) whose physical
 * part stays inside a window saved through Raft ({@code SaveTsoWindow}, applied by {@link
 * io.flotilla.pd.meta.PdStateMachine}), and saves the next window ahead of need. The same shape as
 * {@link IdAllocator}: a window reserved by a committed entry, handed out only by the member that
 * reserved it.
 *
 * <h2>Why timestamps never go backwards</h2>
 *
 * <ul>
 *   <li>A save of {@code until} applies as {@code saved = max(saved, until)} and reports the bound
 *       {@code before} it. A leader hands out physical parts in {@code [before, saved)} of its own
 *       applied saves only, so every physical part ever handed out is below the saved bound.
 *   <li>A leader in a new term hands out nothing until a save proposed in that term has applied
 *       (its own apply, after every entry of earlier terms): its first window starts at that
 *       save's {@code before}, at or above every physical part an earlier leader handed out.
 *   <li>Within a term: physical = max(clock, last physical, window start); the same ms as the last
 *       timestamp takes the next logical parts; when they run out (2^18 per ms) the next ms.
 *       A clock that goes backwards only stalls the physical part, and a physical part at the
 *       window's end waits for a save that extends it.
 * </ul>
 *
 * <p>The caller checks leadership: {@code alloc(leaderTerm, n)} with the term a read barrier of PD's
 * group confirmed, so a deposed leader never answers from its old window (its barrier fails). A
 * window is {@code windowMs} long; a new one is saved, without waiting, once less than a third of it
 * is left.
 *
 * <p>Threads: any thread; short critical sections, no blocking.
 */
final class TsoAllocator {
  private final long windowMs;
  private final LongSupplier clockMs;
  /** Saves {@code until} through Raft; completes, once applied, with the saved bound before it. */
  private final LongFunction<CompletableFuture<Long>> save;

  /** The leader term the window belongs to; -1 before any. */
  private long term = -1;
  /** Whether a save proposed in {@link #term} has applied, so [start, end) is this leader's. */
  private boolean synced;
  private long start;
  private long end;
  /** The last timestamp handed out (physical ms, logical), kept across terms. */
  private long physical;
  private long logical = -1;
  /** A save of {@link #term} in flight, or done; null if none was made in this term. */
  private CompletableFuture<Void> saving;

  TsoAllocator(long windowMs, LongSupplier clockMs, LongFunction<CompletableFuture<Long>> save) {
    if (windowMs < 3) {
      throw new IllegalArgumentException("windowMs: must be >= 3, got " + windowMs);
    }
    this.windowMs = windowMs;
    this.clockMs = clockMs;
    this.save = save;
  }

  /**
   * {@code count} consecutive timestamps (one physical ms) for a leader of {@code leaderTerm};
   * completes with the first. Fails with {@link StaleTermException} if a later term already asked,
   * and with the save's failure if a needed save failed (the next call tries again).
   */
  CompletableFuture<Long> alloc(long leaderTerm, int count) {
    if (count < 1 || count > Timestamps.LOGICAL_LIMIT) {
      throw new IllegalArgumentException("count: must be in [1, " + Timestamps.LOGICAL_LIMIT + "], got " + count);
    }
    CompletableFuture<Void> wait;
    synchronized (this) {
      enterTerm(leaderTerm);
      long now = clockMs.getAsLong();
      if (synced) {
        long p = Math.max(Math.max(now, physical), start);
        long l = p == physical ? logical + 1 : 0;
        if (l + count > Timestamps.LOGICAL_LIMIT) {
          p++; // this ms is used up: the next one
          l = 0;
        }
        if (p < end) {
          physical = p;
          logical = l + count - 1;
          if (end - Math.max(now, p) < (windowMs + 2) / 3) {
            saveAhead(Math.max(now, p) + windowMs);
          }
          return CompletableFuture.completedFuture(Timestamps.compose(p, l));
        }
        saveAhead(Math.max(now, p) + windowMs);
      } else {
        saveAhead(now + windowMs);
      }
      wait = saving;
    }
    return wait.thenCompose(v -> alloc(leaderTerm, count));
  }

  /** A new leader term starts: saves its first window, so the first request need not wait for it. */
  synchronized void prepare(long leaderTerm) {
    enterTerm(leaderTerm);
    if (!synced) {
      saveAhead(clockMs.getAsLong() + windowMs);
    }
  }

  /** The physical part (ms) this leader may hand out up to (exclusive); 0 until it synced. For tests. */
  synchronized long windowEndMs() {
    return synced ? end : 0;
  }

  private void enterTerm(long t) {
    if (t < term) {
      throw new StaleTermException(t, term);
    }
    if (t > term) {
      term = t;
      synced = false;
      saving = null;
      start = 0;
      end = 0;
    }
  }

  /** Starts a save of {@code until} unless one of this term is in flight. */
  private void saveAhead(long until) {
    if (saving != null && !saving.isDone()) {
      return;
    }
    long t = term;
    CompletableFuture<Long> saved;
    try {
      saved = save.apply(until);
    } catch (RuntimeException e) {
      saved = CompletableFuture.failedFuture(e);
    }
    saving = saved.thenAccept(before -> onSaved(t, before, until));
  }

  private synchronized void onSaved(long t, long before, long until) {
    if (t != term) {
      return; // saved for an earlier term: this member may not use it
    }
    if (!synced) {
      synced = true;
      start = before;
    }
    end = Math.max(end, Math.max(before, until));
  }

  /** A request of a leader term older than one already served: that leadership is over. */
  static final class StaleTermException extends RuntimeException {
    StaleTermException(long asked, long current) {
      super("timestamps asked for leader term " + asked + " after term " + current + " began", null, false, false);
    }
  }
}
