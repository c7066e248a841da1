package io.flotilla.pd.server;

import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;

/**
 * The leader's id allocator: hands out ids from a range it reserved through Raft ({@code
 * ReserveIds}, applied by {@link io.flotilla.pd.meta.PdStateMachine}), reserving the next range
 * ({@code batchSize} ids, or more for a large request) when this one runs out.
 *
 * <p>Why ids are never handed out twice: every range is reserved by a committed entry above the
 * highest bound committed before it, so ranges never overlap, whichever member reserved them; a
 * member hands out only ids of ranges it reserved itself, each once. A restart or a leader change
 * loses the rest of a range (a gap), never repeats it.
 *
 * <p>Threads: any thread; short critical sections, no blocking.
 */
final class IdAllocator {
  private final int batchSize;
  /** Reserves {@code count} ids through Raft; completes with the first. */
  private final LongFunction<CompletableFuture<Long>> reserve;
  /** Ids [next, end) are reserved to this member and not handed out yet. */
  private long next;
  private long end;
  private CompletableFuture<Void> refill;

  IdAllocator(int batchSize, LongFunction<CompletableFuture<Long>> reserve) {
    this.batchSize = batchSize;
    this.reserve = reserve;
  }

  /** {@code count} consecutive fresh ids; completes with the first. */
  CompletableFuture<Long> alloc(int count) {
    CompletableFuture<Void> wait;
    synchronized (this) {
      if (end - next >= count) {
        long first = next;
        next += count;
        return CompletableFuture.completedFuture(first);
      }
      if (refill == null || refill.isDone()) {
        long want = Math.max(batchSize, count);
        refill = reserve.apply(want).thenAccept(first -> onReserved(first, want));
      }
      wait = refill;
    }
    return wait.thenCompose(v -> alloc(count));
  }

  private synchronized void onReserved(long first, long count) {
    if (first == end) {
      end += count; // contiguous with what is left: keep it
    } else {
      next = first;
      end = first + count;
    }
  }
}
