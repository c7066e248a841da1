package io.flotilla.bench.raft;

import io.flotilla.bench.DurationConverter;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Adds up what the JVMs of a run report: merges their intervals by index, prints one progress line
 * per tick, keeps the latency histograms, and builds the summary and the JSON fields.
 *
 * <p>Thread-safe: node processes report from their reader threads.
 */
final class Report implements Interval.Sink {
  private final RaftBenchSettings settings;
  private final int sources;
  private final PrintWriter out;
  private final Map<Integer, List<Interval>> pending = new HashMap<>();
  private final Histogram warmupLatencies = new Histogram(LoadGenerator.MAX_LATENCY_MICROS, 3);
  private final Histogram latencies = new Histogram(LoadGenerator.MAX_LATENCY_MICROS, 3);
  private final Map<String, Object> json = new LinkedHashMap<>();

  Report(RaftBenchSettings settings, int sources, PrintWriter out) {
    this.settings = settings;
    this.sources = sources;
    this.out = out;
    json.put("bench", "raft");
    json.put("mode", settings.idle() ? "idle" : "throughput");
    json.put("nodes", settings.nodes());
    json.put("processes", settings.processes());
    json.put("groups", settings.groups());
    json.put("payload_bytes", settings.payloadBytes());
    json.put("concurrency", settings.concurrency());
    json.put("duration_s", settings.duration().toNanos() / 1e9);
    json.put("warmup_s", settings.warmup().toNanos() / 1e9);
    json.put("fsync", settings.fsync());
  }

  @Override
  public synchronized void accept(Interval iv) {
    List<Interval> parts = pending.computeIfAbsent(iv.index(), k -> new ArrayList<>());
    parts.add(iv);
    if (parts.size() == sources) {
      pending.remove(iv.index());
      progress(merge(parts));
    }
  }

  private static Interval merge(List<Interval> parts) {
    Histogram h = new Histogram(LoadGenerator.MAX_LATENCY_MICROS, 3);
    long elapsed = 0;
    long length = 0;
    long errors = 0;
    long cpu = 0;
    long hibernated = 0;
    long replicas = 0;
    for (Interval p : parts) {
      h.add(p.latencies());
      elapsed = Math.max(elapsed, p.elapsedNanos());
      length += p.lengthNanos();
      errors += p.errors();
      cpu += p.cpuNanos();
      hibernated += p.hibernated();
      replicas += p.replicas();
    }
    Interval first = parts.get(0);
    return new Interval(first.index(), first.warmup(), elapsed, length / parts.size(), h, errors, cpu, hibernated,
        replicas);
  }

  private void progress(Interval iv) {
    double seconds = iv.lengthNanos() / 1e9;
    String phase = iv.warmup() ? "warmup" : "";
    if (settings.idle()) {
      out.printf(Locale.ROOT, "%7.1fs %-6s  cpu %6.2f%% of a core  hibernated %,d/%,d%n", iv.elapsedNanos() / 1e9,
          phase, 100.0 * iv.cpuNanos() / iv.lengthNanos(), iv.hibernated(), iv.replicas());
      return;
    }
    Histogram soFar = iv.warmup() ? warmupLatencies : latencies;
    soFar.add(iv.latencies());
    out.printf(Locale.ROOT, "%7.1fs %-6s %,10.0f ops/s  p99 %8.2f ms  cpu %4.2f cores%s%n", iv.elapsedNanos() / 1e9,
        phase, iv.latencies().getTotalCount() / seconds, ms(soFar.getValueAtPercentile(99)),
        (double) iv.cpuNanos() / iv.lengthNanos(), iv.errors() > 0 ? "  errors " + iv.errors() : "");
  }

  /** Prints the summary of a load run and returns the JSON fields. */
  synchronized Map<String, Object> throughput(List<Workload.Result> results) {
    Counters c = sum(results);
    double seconds = meanSeconds(results);
    long ops = latencies.getTotalCount();
    double opsPerSec = ops / seconds;
    double entriesPerFsync = c.fsyncs() == 0 ? Double.NaN : (double) c.entriesWritten() / c.fsyncs();
    double entriesPerBatch = c.batchesWritten() == 0 ? Double.NaN : (double) c.entriesWritten() / c.batchesWritten();
    double cores = c.cpuNanos() / 1e9 / seconds;
    out.println();
    out.printf(Locale.ROOT, "raft bench: %s%n", describe());
    out.printf(Locale.ROOT, "  proposals/s         %,.0f  (%,d applied in %.1f s)%n", opsPerSec, ops, seconds);
    out.printf(Locale.ROOT, "  commit latency      p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms%n",
        ms(latencies.getValueAtPercentile(50)), ms(latencies.getValueAtPercentile(99)),
        ms(latencies.getValueAtPercentile(99.9)), ms(latencies.getMaxValue()));
    out.printf(Locale.ROOT, "  entries per fsync   %s  (entries %,d, fsyncs %,d, batches %,d; all nodes)%n",
        c.fsyncs() == 0 ? "n/a, fsync off" : String.format(Locale.ROOT, "%.1f", entriesPerFsync),
        c.entriesWritten(), c.fsyncs(), c.batchesWritten());
    out.printf(Locale.ROOT, "  raft frames/s       %,.0f  (%.1f messages per frame, %,d messages dropped on full send "
        + "queues; all nodes)%n", c.framesSent() / seconds,
        c.framesSent() == 0 ? 0.0 : (double) c.messagesSent() / c.framesSent(), c.messagesDropped());
    out.printf(Locale.ROOT, "  cpu cores used      %.2f of %d%s%n", cores, Runtime.getRuntime().availableProcessors(),
        settings.processes() ? " (node processes)" : "");
    out.printf(Locale.ROOT, "  errors              %,d  (not leader %,d, dropped %,d, unknown outcome %,d)%n",
        c.errors(), c.notLeader(), c.dropped(), c.unknown());
    json.put("ops_per_sec", opsPerSec);
    json.put("proposals", ops);
    json.put("measured_s", seconds);
    putLatencies(latencies);
    json.put("entries_per_fsync", entriesPerFsync);
    json.put("entries_per_batch", entriesPerBatch);
    json.put("fsyncs", c.fsyncs());
    json.put("frames_per_sec", c.framesSent() / seconds);
    json.put("messages_per_frame", c.framesSent() == 0 ? Double.NaN : (double) c.messagesSent() / c.framesSent());
    json.put("messages_dropped", c.messagesDropped());
    json.put("cpu_cores", cores);
    json.put("applied_entries_all_replicas", c.applied());
    json.put("errors", c.errors());
    json.put("errors_not_leader", c.notLeader());
    json.put("errors_dropped", c.dropped());
    json.put("errors_unknown", c.unknown());
    return json;
  }

  /** Prints the summary of an idle run and its wake-up, and returns the JSON fields. */
  synchronized Map<String, Object> idle(List<Workload.Result> results, long hibernatedAtStart, long replicas,
      List<WakeAll.Result> wakes, long wakeNanos) {
    Counters c = sum(results);
    double seconds = meanSeconds(results);
    double cores = c.cpuNanos() / 1e9 / seconds;
    Histogram wake = new Histogram(LoadGenerator.MAX_LATENCY_MICROS, 3);
    long proposals = 0;
    long failed = 0;
    Counters wc = Counters.ZERO;
    for (WakeAll.Result w : wakes) {
      wake.add(w.latencies());
      proposals += w.proposals();
      failed += w.failed();
      wc = wc.plus(w.counters());
    }
    double wakeSeconds = wakeNanos / 1e9;
    double entriesPerFsync = wc.fsyncs() == 0 ? Double.NaN : (double) wc.entriesWritten() / wc.fsyncs();
    out.println();
    out.printf(Locale.ROOT, "raft bench --idle: %s%n", describe());
    out.printf(Locale.ROOT, "  hibernated replicas %,d of %,d when the measurement began%n", hibernatedAtStart,
        replicas);
    out.printf(Locale.ROOT, "  idle cpu            %.2f%% of one core (%.4f cores) over %.1f s%s%n", 100 * cores, cores,
        seconds, settings.processes() ? " (node processes)" : "");
    out.printf(Locale.ROOT, "  raft frames/s idle  %,.1f  (all nodes)%n", c.framesSent() / seconds);
    out.printf(Locale.ROOT, "  wake all groups     %,.0f ms for %,d proposals (one per group, up to %,d in flight), "
        + "%,d failed%n", wakeNanos / 1e6, proposals, settings.concurrency(), failed);
    out.printf(Locale.ROOT, "  wake commit latency p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms%n",
        ms(wake.getValueAtPercentile(50)), ms(wake.getValueAtPercentile(99)), ms(wake.getValueAtPercentile(99.9)),
        ms(wake.getMaxValue()));
    out.printf(Locale.ROOT, "  entries per fsync   %s during the wake-up (%,d raft messages dropped on full send "
        + "queues)%n", wc.fsyncs() == 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", entriesPerFsync),
        wc.messagesDropped());
    json.put("idle_cpu_cores", cores);
    json.put("idle_cpu_pct_of_core", 100 * cores);
    json.put("cpu_cores", cores);
    json.put("measured_s", seconds);
    json.put("hibernated_replicas", hibernatedAtStart);
    json.put("replicas", replicas);
    json.put("idle_frames_per_sec", c.framesSent() / seconds);
    json.put("wake_all_ms", wakeNanos / 1e6);
    json.put("wake_proposals", proposals);
    json.put("wake_failed", failed);
    json.put("ops_per_sec", proposals / wakeSeconds);
    putLatencies(wake);
    json.put("entries_per_fsync", entriesPerFsync);
    json.put("wake_messages_dropped", wc.messagesDropped());
    json.put("wake_concurrency", settings.concurrency());
    return json;
  }

  private void putLatencies(Histogram h) {
    json.put("p50_ms", ms(h.getValueAtPercentile(50)));
    json.put("p99_ms", ms(h.getValueAtPercentile(99)));
    json.put("p999_ms", ms(h.getValueAtPercentile(99.9)));
    json.put("max_ms", ms(h.getMaxValue()));
  }

  /** One line saying what ran. */
  String describe() {
    return String.format(Locale.ROOT,
        "%d nodes (%s), %,d groups, %d B payload, %s, fsync %s, %s measured after %s warmup", settings.nodes(),
        settings.processes() ? "one JVM each" : "one JVM", settings.groups(), settings.payloadBytes(),
        settings.idle() ? "idle" : "concurrency " + settings.concurrency(), settings.fsync() ? "on" : "off",
        DurationConverter.format(settings.duration()), DurationConverter.format(settings.warmup()));
  }

  private static Counters sum(List<Workload.Result> results) {
    Counters c = Counters.ZERO;
    for (Workload.Result r : results) {
      c = c.plus(r.counters());
    }
    return c;
  }

  private static double meanSeconds(List<Workload.Result> results) {
    return results.stream().mapToLong(Workload.Result::measuredNanos).average().orElse(Double.NaN) / 1e9;
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }
}
