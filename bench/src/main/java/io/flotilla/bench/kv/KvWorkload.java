package io.flotilla.bench.kv;

import io.flotilla.bench.BenchException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The measured phase: closed-loop load through the warmup and the duration, sampled at every
 * tick (whole seconds from the start, the end of the warmup, the end) into the {@link KvReport};
 * counters are taken at the end of the warmup and at the end.
 *
 * <p>Threads: the caller's thread only; the load runs on the router's threads.
 */
final class KvWorkload {
  private static final Logger LOG = LoggerFactory.getLogger(KvWorkload.class);
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  /** How long operations in flight may take to finish after the measurement (the router's deadline is 10 s). */
  private static final Duration DRAIN = Duration.ofSeconds(15);

  /**
   * What the measured part did, apart from latencies (which the report keeps).
   *
   * @param measuredNanos from the end of the warmup to the end
   * @param errors failed operations
   * @param readsNotFound gets that found no value
   * @param cpuNanos CPU time of this process
   * @param storage entries written and fsyncs of the embedded stores; null when remote
   * @param firstError the message of the first failure of the run, or null
   */
  record Measurement(long measuredNanos, KvLoadGenerator.Errors errors, long readsNotFound, long cpuNanos,
      KvTarget.StorageTotals storage, String firstError) {}

  /** A progress tick: its offset from the start and whether it ends a warmup interval. */
  record Tick(long atNanos, boolean warmup) {}

  private KvWorkload() {}

  /** Tick offsets: whole seconds through the warmup, its end, whole seconds after it, the end. */
  static List<Tick> schedule(Duration warmup, Duration duration) {
    long w = warmup.toNanos();
    long end = w + duration.toNanos();
    List<Tick> ticks = new ArrayList<>();
    for (long t = SECOND; t < w; t += SECOND) {
      ticks.add(new Tick(t, true));
    }
    if (w > 0) {
      ticks.add(new Tick(w, true));
    }
    for (long t = w + SECOND; t < end; t += SECOND) {
      ticks.add(new Tick(t, false));
    }
    ticks.add(new Tick(end, false));
    return ticks;
  }

  static Measurement run(KvTarget target, KvBenchSettings s, KvReport report) {
    KvLoadGenerator gen = new KvLoadGenerator(target.client(), s.keys(), s.readRatio(), s.valueBytes());
    long warmupNanos = s.warmup().toNanos();
    long start = System.nanoTime();
    Sample first = Sample.take(gen, target, start);
    gen.start(s.concurrency());
    Sample atStart = first;
    Sample last = first;
    try {
      for (Tick tick : schedule(s.warmup(), s.duration())) {
        parkUntil(start + tick.atNanos());
        Sample now = Sample.take(gen, target, System.nanoTime());
        report.interval(now.nanos - start, now.nanos - last.nanos, tick.warmup(), gen.readInterval(),
            gen.writeInterval(), now.errors.minus(last.errors).total());
        last = now;
        if (tick.warmup() && tick.atNanos() == warmupNanos) {
          atStart = now;
        }
      }
    } finally {
      int stuck = gen.stop(DRAIN);
      if (stuck > 0) {
        LOG.warn("{} operations were still in flight {} s after the load stopped", stuck, DRAIN.toSeconds());
      }
    }
    return new Measurement(last.nanos - atStart.nanos, last.errors.minus(atStart.errors),
        last.readsNotFound - atStart.readsNotFound, last.cpuNanos - atStart.cpuNanos,
        last.storage == null ? null : last.storage.minus(atStart.storage), gen.firstError());
  }

  /** Monotonic counters at one instant. */
  private record Sample(long nanos, KvLoadGenerator.Errors errors, long readsNotFound, long cpuNanos,
      KvTarget.StorageTotals storage) {
    static Sample take(KvLoadGenerator gen, KvTarget target, long nanos) {
      return new Sample(nanos, gen.errors(), gen.readsNotFound(), processCpuNanos(), target.storageTotals());
    }
  }

  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    throw new BenchException("this JVM does not report process CPU time"
        + " (com.sun.management.OperatingSystemMXBean); use a HotSpot-based JDK");
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
