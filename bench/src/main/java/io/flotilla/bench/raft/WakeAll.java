package io.flotilla.bench.raft;

import io.flotilla.bench.BenchException;
import io.flotilla.region.driver.NotLeaderException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After {@code --idle}: one proposal to every group the router covers, with at most
 * {@code inFlight} at a time (each completion starts the next group's), timing how long until all
 * of them are applied. NotLeader is retried at the hinted leader a few times.
 *
 * <p>Threads: {@link #run} on the caller; completions on the driver's pollers.
 */
final class WakeAll {
  private static final Logger LOG = LoggerFactory.getLogger(WakeAll.class);
  private static final int NOT_LEADER_RETRIES = 5;

  /**
   * How many proposals, how many failed (by exception), how long until the last was applied, their
   * latencies (each from its own proposal, microseconds), and the nodes' counters over the wake-up.
   */
  record Result(long proposals, long failed, long nanos, Histogram latencies, Counters counters) {
    String encode() {
      return proposals + " " + failed + " " + nanos + " " + Interval.encode(latencies) + " " + counters.encode();
    }

    static Result decode(List<String> f) {
      return new Result(Long.parseLong(f.get(0)), Long.parseLong(f.get(1)), Long.parseLong(f.get(2)),
          Interval.decodeHistogram(f.get(3)), Counters.decode(f.subList(4, f.size())));
    }
  }

  private final LeaderRouter router;
  private final long[] groups;
  private final byte[] payload;
  private final Recorder latencies = new Recorder(LoadGenerator.MAX_LATENCY_MICROS, 3);
  private final AtomicInteger next = new AtomicInteger();
  private final CountDownLatch done;
  private final AtomicLong lastDoneNanos = new AtomicLong();
  private final LongAdder failed = new LongAdder();
  private final Map<String, LongAdder> causes = new ConcurrentHashMap<>();
  private final Executor retries = CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS);

  private WakeAll(LeaderRouter router, int payloadBytes) {
    this.router = router;
    this.groups = router.candidates();
    this.payload = new byte[payloadBytes];
    this.done = new CountDownLatch(groups.length);
  }

  static Result run(BenchNodes nodes, LeaderRouter router, int payloadBytes, int inFlight, Duration timeout) {
    return new WakeAll(router, payloadBytes).run(nodes, inFlight, timeout);
  }

  private Result run(BenchNodes nodes, int inFlight, Duration timeout) {
    Counters before = nodes.totals();
    long start = System.nanoTime();
    lastDoneNanos.set(start);
    for (int i = 0; i < Math.min(inFlight, groups.length); i++) {
      proposeNext();
    }
    boolean all;
    try {
      all = done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    }
    long end = all ? lastDoneNanos.get() : System.nanoTime();
    long failures = failed.sum() + done.getCount();
    if (failures > 0) {
      Map<String, Long> byCause = new TreeMap<>();
      causes.forEach((k, v) -> byCause.put(k, v.sum()));
      if (done.getCount() > 0) {
        byCause.put("not done after " + timeout.toSeconds() + " s", done.getCount());
      }
      LOG.warn("{} of {} wake-up proposals failed: {}", failures, groups.length, byCause);
    }
    return new Result(groups.length, failures, end - start, latencies.getIntervalHistogram(),
        nodes.totals().minus(before));
  }

  private void proposeNext() {
    int i = next.getAndIncrement();
    if (i >= groups.length) {
      return;
    }
    long g = groups[i];
    long t0 = System.nanoTime();
    propose(g, NOT_LEADER_RETRIES).whenComplete((r, error) -> {
      long now = System.nanoTime();
      if (error == null) {
        latencies.recordValue(Math.min((now - t0) / 1_000, LoadGenerator.MAX_LATENCY_MICROS));
        lastDoneNanos.accumulateAndGet(now, Math::max);
      } else {
        failed.increment();
        causes.computeIfAbsent(unwrap(error).getClass().getSimpleName(), k -> new LongAdder()).increment();
      }
      done.countDown();
      // NB: a failure may complete at once, on this thread; go on elsewhere rather than recurse.
      if (error == null) {
        proposeNext();
      } else {
        retries.execute(this::proposeNext);
      }
    });
  }

  private CompletableFuture<Object> propose(long g, int retriesLeft) {
    return router.propose(g, payload).handle((r, error) -> {
      if (error == null) {
        return CompletableFuture.completedFuture(r);
      }
      Throwable cause = unwrap(error);
      if (retriesLeft > 0 && cause instanceof NotLeaderException nle
          && router.learn(g, nle.leaderNode()) != LeaderRouter.Retry.ELSEWHERE) {
        return CompletableFuture.supplyAsync(() -> null, retries).thenCompose(v -> propose(g, retriesLeft - 1));
      }
      return CompletableFuture.<Object>failedFuture(cause);
    }).thenCompose(f -> f);
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
  }
}
