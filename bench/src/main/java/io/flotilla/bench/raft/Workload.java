package io.flotilla.bench.raft;

import io.flotilla.bench.BenchException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The phases of a run, as one JVM performs them on the nodes it hosts: closed-loop load and idling
 * ({@link WakeAll} wakes the groups afterwards). A node process runs the same code on its one
 * node, and the parent adds up what the processes report.
 *
 * <p>Progress ticks fall on whole seconds after the start, plus one at the end of the warmup and one
 * at the end; every JVM of a run computes the same schedule, so their intervals line up by index.
 */
final class Workload {
  private static final Logger LOG = LoggerFactory.getLogger(Workload.class);
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  /** How long in-flight proposals may take to finish after the measurement. */
  private static final Duration DRAIN = Duration.ofSeconds(15);

  /** Counters over the measured part of a phase, and its length. */
  record Result(Counters counters, long measuredNanos) {
    String encode() {
      return measuredNanos + " " + counters.encode();
    }

    static Result decode(List<String> f) {
      return new Result(Counters.decode(f.subList(1, f.size())), Long.parseLong(f.get(0)));
    }
  }

  /** A progress tick: its offset from the start and whether it ends a warmup interval. */
  record Tick(int index, long atNanos, boolean warmup) {}

  private Workload() {}

  /** Tick offsets: whole seconds through the warmup, its end, whole seconds after it, the end. */
  static List<Tick> schedule(Duration warmup, Duration duration) {
    long w = warmup.toNanos();
    long end = w + duration.toNanos();
    List<Tick> ticks = new ArrayList<>();
    for (long t = SECOND; t < w; t += SECOND) {
      ticks.add(new Tick(ticks.size(), t, true));
    }
    if (w > 0) {
      ticks.add(new Tick(ticks.size(), w, true));
    }
    for (long t = w + SECOND; t < end; t += SECOND) {
      ticks.add(new Tick(ticks.size(), t, false));
    }
    ticks.add(new Tick(ticks.size(), end, false));
    return ticks;
  }

  /** Proposal slots a JVM runs: its share of the concurrency, by the groups its nodes lead. */
  static int slots(int concurrency, long groupsLed, long groups) {
    if (groupsLed == 0) {
      return 0;
    }
    return (int) Math.max(1, Math.round((double) concurrency * groupsLed / groups));
  }

  /** Runs closed-loop load with {@code slots} proposals in flight through the warmup and duration. */
  static Result throughput(BenchNodes nodes, LeaderRouter router, RaftBenchSettings s, int slots, Interval.Sink sink) {
    LoadGenerator gen = new LoadGenerator(router, s.payloadBytes());
    long start = System.nanoTime();
    Counters first = nodes.totals();
    gen.start(slots);
    Result r = measure(nodes, s, start, first, gen::intervalHistogram, () -> nodes.totals().plus(gen.errors()), sink);
    int stuck = gen.stop(DRAIN);
    if (stuck > 0) {
      LOG.warn("{} proposals were still in flight {} s after the load stopped", stuck, DRAIN.toSeconds());
    }
    return r;
  }

  /**
   * Waits until every hosted replica hibernates, or {@code timeout}.
   *
   * @return hibernating replicas at the end
   */
  static long awaitHibernation(BenchNodes nodes, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (nodes.hibernated() < nodes.replicas() && System.nanoTime() - deadline < 0) {
      nodes.checkHealthy();
      BenchNodes.sleep(50);
    }
    return nodes.hibernated();
  }

  /** Lets the nodes idle through the warmup and the duration, measuring CPU time. */
  static Result idle(BenchNodes nodes, RaftBenchSettings s, Interval.Sink sink) {
    Histogram none = new Histogram(LoadGenerator.MAX_LATENCY_MICROS, 3);
    return measure(nodes, s, System.nanoTime(), nodes.totals(), () -> none, nodes::totals, sink);
  }

  /**
   * Samples at every tick of the schedule and hands each interval to {@code sink}; the result covers
   * the ticks after the warmup.
   */
  private static Result measure(BenchNodes nodes, RaftBenchSettings s, long start, Counters first,
      Supplier<Histogram> latencies, Supplier<Counters> counters, Interval.Sink sink) {
    Counters atStart = first;
    Counters last = first;
    long measureStart = start;
    long prev = start;
    for (Tick tick : schedule(s.warmup(), s.duration())) {
      parkUntil(start + tick.atNanos());
      long now = System.nanoTime();
      Histogram h = latencies.get();
      Counters c = counters.get();
      sink.accept(new Interval(tick.index(), tick.warmup(), now - start, now - prev, h,
          c.errors() - last.errors(), c.cpuNanos() - last.cpuNanos(), nodes.hibernated(), nodes.replicas()));
      last = c;
      prev = now;
      if (tick.warmup() && tick.atNanos() == s.warmup().toNanos()) {
        atStart = c;
        measureStart = now;
      }
      nodes.checkHealthy();
    }
    return new Result(last.minus(atStart), prev - measureStart);
  }

  private static void parkUntil(long nanoTime) {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new BenchException("interrupted");
      }
    }
  }
}
