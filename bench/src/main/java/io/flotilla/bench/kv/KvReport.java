package io.flotilla.bench.kv;

import io.flotilla.bench.DurationConverter;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Prints one progress line per tick, keeps the latency histograms (warmup apart from the measured
 * part; gets, puts and both), and builds the summary and the JSON fields. The JSON keys shared with
 * {@code bench raft} mean the same: {@code ops_per_sec}, {@code p50_ms}, {@code p99_ms}, {@code
 * p999_ms}, {@code entries_per_fsync}, {@code cpu_cores}.
 *
 * <p>Threads: the bench's main thread only.
 */
final class KvReport {
  private final KvBenchSettings settings;
  private final PrintWriter out;
  private final String target;
  private final Histogram warmup = histogram();
  private final Histogram all = histogram();
  private final Histogram reads = histogram();
  private final Histogram writes = histogram();
  private final Map<String, Object> json = new LinkedHashMap<>();

  /**
   * @param target where the load goes, e.g. "embedded, 3 stores, fsync on" or "PD 10.0.0.1:2379"
   */
  KvReport(KvBenchSettings settings, String target, PrintWriter out) {
    this.settings = settings;
    this.target = target;
    this.out = out;
    json.put("bench", "kv");
    json.put("mode", settings.embedded() ? "embedded" : "remote");
    json.put("pd", settings.embedded() ? null : settings.pd());
    json.put("stores", settings.embedded() ? settings.stores() : null);
    json.put("fsync", settings.embedded() ? settings.fsync() : null);
    json.put("read_ratio", settings.readRatio());
    json.put("value_bytes", settings.valueBytes());
    json.put("keys", settings.keys());
    json.put("concurrency", settings.concurrency());
    json.put("duration_s", settings.duration().toNanos() / 1e9);
    json.put("warmup_s", settings.warmup().toNanos() / 1e9);
  }

  private static Histogram histogram() {
    return new Histogram(KvLoadGenerator.MAX_LATENCY_MICROS, 3);
  }

  /** One line saying what runs. */
  String describe() {
    return String.format(Locale.ROOT, "%s; %,d keys, %d B values, read ratio %.2f, concurrency %d, %s measured after "
        + "%s warmup", target, settings.keys(), settings.valueBytes(), settings.readRatio(), settings.concurrency(),
        DurationConverter.format(settings.duration()), DurationConverter.format(settings.warmup()));
  }

  /** The load phase's figures (or that it was skipped). */
  void loaded(Loader.Result load) {
    json.put("load_keys", load == null ? null : load.keys());
    json.put("load_s", load == null ? null : load.nanos() / 1e9);
    json.put("load_keys_per_sec", load == null ? null : load.keysPerSec());
    if (load != null) {
      out.printf(Locale.ROOT, "loaded %,d keys in %.1f s (%,.0f keys/s)%n", load.keys(), load.nanos() / 1e9,
          load.keysPerSec());
    }
  }

  /** Takes one interval's latencies and prints its progress line. */
  void interval(long elapsedNanos, long lengthNanos, boolean isWarmup, Histogram readLatencies,
      Histogram writeLatencies, long errors) {
    Histogram soFar = isWarmup ? warmup : all;
    soFar.add(readLatencies);
    soFar.add(writeLatencies);
    if (!isWarmup) {
      reads.add(readLatencies);
      writes.add(writeLatencies);
    }
    long ops = readLatencies.getTotalCount() + writeLatencies.getTotalCount();
    out.printf(Locale.ROOT, "%7.1fs %-6s %,10.0f ops/s  p99 %8.2f ms  errors %,d%n", elapsedNanos / 1e9,
        isWarmup ? "warmup" : "", ops / (lengthNanos / 1e9), ms(soFar.getValueAtPercentile(99)), errors);
  }

  /** Operations that succeeded in the measured part so far. */
  long measuredOps() {
    return all.getTotalCount();
  }

  /** Prints the summary of the measured part and returns the JSON fields. */
  Map<String, Object> summary(KvWorkload.Measurement m) {
    double seconds = m.measuredNanos() / 1e9;
    long ops = all.getTotalCount();
    double opsPerSec = ops / seconds;
    KvLoadGenerator.Errors e = m.errors();
    double errorRate = ops + e.total() == 0 ? Double.NaN : (double) e.total() / (ops + e.total());
    double cores = m.cpuNanos() / 1e9 / seconds;
    KvTarget.StorageTotals st = m.storage();
    double entriesPerFsync = st == null || st.fsyncs() == 0 ? Double.NaN : (double) st.entriesWritten() / st.fsyncs();

    out.println();
    out.printf(Locale.ROOT, "kv bench: %s%n", describe());
    out.printf(Locale.ROOT, "  ops/s               %,.0f  (%,d ops in %.1f s: %,d gets, %,d puts)%n", opsPerSec, ops,
        seconds, reads.getTotalCount(), writes.getTotalCount());
    out.printf(Locale.ROOT, "  latency             %s  p99.9 %.2f ms  max %.2f ms%n", p50p99(all),
        ms(all.getValueAtPercentile(99.9)), ms(all.getMaxValue()));
    out.printf(Locale.ROOT, "  get latency         %s%s%n", p50p99(reads),
        m.readsNotFound() == 0 ? "" : String.format(Locale.ROOT, "  (%,d found no value)", m.readsNotFound()));
    out.printf(Locale.ROOT, "  put latency         %s%n", p50p99(writes));
    out.printf(Locale.ROOT, "  entries per fsync   %s%n", st == null ? "n/a (remote cluster)"
        : st.fsyncs() == 0 ? String.format(Locale.ROOT, "n/a, fsync off (entries %,d)", st.entriesWritten())
        : String.format(Locale.ROOT, "%.1f  (entries %,d, fsyncs %,d; all stores)", entriesPerFsync,
            st.entriesWritten(), st.fsyncs()));
    double cpuMicrosPerOp = ops == 0 ? Double.NaN : m.cpuNanos() / 1e3 / ops;
    out.printf(Locale.ROOT, "  cpu cores used      %.2f of %d, %.1f us per op (this process: %s)%n", cores,
        Runtime.getRuntime().availableProcessors(), cpuMicrosPerOp, settings.embedded()
            ? "the client, PD and the stores" : "the client only");
    out.printf(Locale.ROOT, "  errors              %,d  (%.2f%%; outcome unknown %,d, deadline %,d, other %,d)%n",
        e.total(), Double.isNaN(errorRate) ? 0.0 : 100 * errorRate, e.outcomeUnknown(), e.deadline(), e.other());

    json.put("ops_per_sec", opsPerSec);
    json.put("ops", ops);
    json.put("cpu_us_per_op", cpuMicrosPerOp);
    json.put("reads", reads.getTotalCount());
    json.put("writes", writes.getTotalCount());
    json.put("reads_not_found", m.readsNotFound());
    json.put("measured_s", seconds);
    json.put("p50_ms", percentileMs(all, 50));
    json.put("p99_ms", percentileMs(all, 99));
    json.put("p999_ms", percentileMs(all, 99.9));
    json.put("max_ms", all.getTotalCount() == 0 ? Double.NaN : ms(all.getMaxValue()));
    json.put("read_p50_ms", percentileMs(reads, 50));
    json.put("read_p99_ms", percentileMs(reads, 99));
    json.put("write_p50_ms", percentileMs(writes, 50));
    json.put("write_p99_ms", percentileMs(writes, 99));
    json.put("entries_per_fsync", entriesPerFsync);
    json.put("entries_written", st == null ? null : st.entriesWritten());
    json.put("fsyncs", st == null ? null : st.fsyncs());
    json.put("cpu_cores", cores);
    json.put("errors", e.total());
    json.put("errors_outcome_unknown", e.outcomeUnknown());
    json.put("errors_deadline", e.deadline());
    json.put("errors_other", e.other());
    json.put("error_rate", errorRate);
    return json;
  }

  private static String p50p99(Histogram h) {
    if (h.getTotalCount() == 0) {
      return "n/a (none)";
    }
    return String.format(Locale.ROOT, "p50 %.2f ms  p99 %.2f ms", ms(h.getValueAtPercentile(50)),
        ms(h.getValueAtPercentile(99)));
  }

  /** A percentile in milliseconds; NaN (null in the JSON) when there is no value. */
  private static double percentileMs(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : ms(h.getValueAtPercentile(percentile));
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }
}
