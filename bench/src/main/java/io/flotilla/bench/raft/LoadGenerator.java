package io.flotilla.bench.raft;

import io.flotilla.engine.Threads;
import io.flotilla.region.driver.DroppedException;
import io.flotilla.region.driver.NotLeaderException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Closed-loop load: a fixed number of slots, each with one proposal in flight; when it is applied
 * the slot proposes to the next group at once. Records commit latency (propose to completion, in
 * microseconds, retries included) in an HdrHistogram {@link Recorder}.
 *
 * <p>A proposal refused with NotLeader is retried at the hinted leader with its original start
 * time; a dropped one is retried after 1 ms; one whose outcome is unknown (timed out) is counted and
 * the slot moves on. Retries run on one scheduler thread, so a proposal that fails at once cannot
 * recurse.
 *
 * <p>Threads: {@link #start}, {@link #stop} from one owner; completions on the driver's pollers.
 */
final class LoadGenerator {
  /** Latencies above one hour are recorded as one hour. */
  static final long MAX_LATENCY_MICROS = TimeUnit.HOURS.toMicros(1);

  private final LeaderRouter router;
  private final byte[] payload;
  private final Recorder recorder = new Recorder(MAX_LATENCY_MICROS, 3);
  private final LongAdder notLeader = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder unknown = new LongAdder();
  private final AtomicInteger activeSlots = new AtomicInteger();
  private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(Threads.named("bench-retry"));
  private volatile boolean stopping;

  LoadGenerator(LeaderRouter router, int payloadBytes) {
    this.router = router;
    // NB: one payload for all proposals; nothing on the path modifies a proposal's bytes.
    this.payload = new byte[payloadBytes];
    new SplittableRandom(42).nextBytes(payload);
  }

  /** Starts {@code slots} proposals; each slot keeps one in flight until {@link #stop}. */
  void start(int slots) {
    for (int i = 0; i < slots; i++) {
      activeSlots.incrementAndGet();
      next();
    }
  }

  /**
   * Stops issuing proposals and waits up to {@code drain} for those in flight to complete.
   *
   * @return the number of slots still waiting on a proposal
   */
  int stop(Duration drain) {
    stopping = true;
    long deadline = System.nanoTime() + drain.toNanos();
    while (activeSlots.get() > 0 && System.nanoTime() - deadline < 0) {
      BenchNodes.sleep(5);
    }
    retries.shutdownNow();
    return activeSlots.get();
  }

  /** Latencies recorded since the last call (or since the start), in microseconds. */
  Histogram intervalHistogram() {
    return recorder.getIntervalHistogram();
  }

  /** Errors so far, as {@link Counters} with only the error fields set. */
  Counters errors() {
    return Counters.errors(notLeader.sum(), dropped.sum(), unknown.sum());
  }

  private void next() {
    long g = router.nextGroup();
    if (g < 0) {
      activeSlots.decrementAndGet();
      return;
    }
    issue(g, System.nanoTime());
  }

  private void issue(long groupId, long startNanos) {
    if (stopping) {
      activeSlots.decrementAndGet();
      return;
    }
    CompletableFuture<Object> f;
    try {
      f = router.propose(groupId, payload);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((result, error) -> completed(groupId, startNanos, error));
  }

  private void completed(long groupId, long startNanos, Throwable error) {
    if (error == null) {
      long micros = (System.nanoTime() - startNanos) / 1_000;
      recorder.recordValue(Math.min(Math.max(micros, 0), MAX_LATENCY_MICROS));
      if (stopping) {
        activeSlots.decrementAndGet();
      } else {
        next();
      }
      return;
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof NotLeaderException nle) {
      notLeader.increment();
      switch (router.learn(groupId, nle.leaderNode())) {
        case NOW -> retry(() -> issue(groupId, startNanos), 0);
        case LATER -> retry(() -> issue(groupId, startNanos), 10);
        case ELSEWHERE -> retry(() -> {
          long g = router.nextGroup();
          if (g < 0) {
            activeSlots.decrementAndGet();
          } else {
            issue(g, startNanos);
          }
        }, 0);
      }
    } else if (cause instanceof DroppedException) {
      dropped.increment();
      retry(() -> issue(groupId, startNanos), 1);
    } else {
      unknown.increment();
      retry(this::next, 0);
    }
  }

  private void retry(Runnable r, long delayMs) {
    if (stopping) {
      activeSlots.decrementAndGet();
      return;
    }
    try {
      retries.schedule(r, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      activeSlots.decrementAndGet();
    }
  }
}
