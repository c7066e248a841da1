package io.flotilla.bench.kv;

import io.flotilla.bench.BenchException;
import io.flotilla.bench.BenchFiles;
import io.flotilla.bench.DurationConverter;
import io.flotilla.bench.PdAddresses;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla bench kv}: gets and puts through the router client ({@code AsyncKvClient}), closed
 * loop, against a cluster started in this JVM ({@code --embedded}) or a running one ({@code --pd}).
 * A load phase writes every key once first; then {@link KvWorkload} runs the warmup and the
 * measurement and {@link KvReport} prints and writes the results.
 *
 * <p>Failed operations are counted by kind; if more than {@link #MAX_ERROR_RATE} of the measured
 * operations fail, the command fails (after printing and writing the results).
 */
@Command(
    name = "kv",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Gets and puts per second and their latency, through the router client.",
    description = {
        "Closed-loop gets and puts through the router client (AsyncKvClient): --concurrency operations in flight, "
            + "each a get with probability --read-ratio, else a put of a random --value-size value, on a key drawn "
            + "uniformly from --keys keys (user0000000000, ...). A load phase first writes every key once. Prints "
            + "ops/s every second, then ops/s, latency percentiles (HdrHistogram, warmup excluded; gets and puts "
            + "also apart), entries per fsync (embedded only), CPU cores used and errors by kind.",
        "With --embedded, PD and --stores stores run in this JVM (data in a temp dir deleted at the end, or --dir); "
            + "else the bench connects to the cluster at --pd."},
    footer = {"", "Examples:",
        "  flotilla bench kv --embedded --keys 100000 --duration 20s --warmup 5s",
        "  flotilla bench kv --embedded --read-ratio 0 --fsync false --json put.json",
        "  flotilla bench kv --pd 10.0.0.1:2379 --concurrency 1024 --skip-load"})
public final class KvBench implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(KvBench.class);

  /** More failed operations than this share of the measured ones fails the command. */
  static final double MAX_ERROR_RATE = 0.01;
  static final String DEFAULT_PD = "127.0.0.1:2379";
  static final int DEFAULT_STORES = 3;
  /** Batch puts in flight during the load phase (at most --concurrency). */
  static final int LOAD_LANES = 16;
  /**
   * How long the bench waits for the first get to be answered: an embedded cluster must elect its
   * first leader, a running one should answer within the router's deadline (10 s).
   */
  private static final Duration EMBEDDED_READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration REMOTE_READY_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration PRESPLIT_TIMEOUT = Duration.ofMinutes(5);

  @Spec
  CommandSpec spec;

  @Option(names = "--pd", paramLabel = "ADDR",
      description = "PD members of a running cluster, host:port[,host:port...] (default: " + DEFAULT_PD + ").")
  String pd;

  @Option(names = "--embedded",
      description = "Start PD and the stores in this JVM instead (LocalCluster, on loopback).")
  boolean embedded;

  @Option(names = "--stores", paramLabel = "N",
      description = "With --embedded: stores; regions get min(3, N) replicas (default: " + DEFAULT_STORES + ").")
  Integer stores;

  @Option(names = "--fsync", paramLabel = "true|false", arity = "1",
      description = "With --embedded: sync the WAL on every storage batch (default: true); false is for "
          + "experiments.")
  Boolean fsync;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "With --embedded: keep the cluster's data here (must be empty or absent); default: a temp dir "
          + "deleted at the end.")
  Path dir;

  @Option(names = "--read-ratio", paramLabel = "R", defaultValue = "0.9",
      description = "Share of operations that are gets, 0 to 1; the rest are puts (default: ${DEFAULT-VALUE}).")
  double readRatio;

  @Option(names = "--value-size", paramLabel = "BYTES", defaultValue = "100",
      description = "Bytes of every value written (default: ${DEFAULT-VALUE}).")
  int valueSize;

  @Option(names = "--keys", paramLabel = "N", defaultValue = "100000",
      description = "Keys, user0000000000 to user<N-1>; each operation picks one uniformly (default: "
          + "${DEFAULT-VALUE}).")
  long keys;

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "256",
      description = "Operations in flight, closed loop (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--duration", paramLabel = "TIME", defaultValue = "30s", converter = DurationConverter.class,
      description = "Measured time, e.g. 30s, 2m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--warmup", paramLabel = "TIME", defaultValue = "10s", converter = DurationConverter.class,
      description = "Load time before measuring, not counted (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--skip-load",
      description = "Do not write every key before the run (gets of keys never written find no value).")
  boolean skipLoad;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the results to this JSON file.")
  Path json;

  @Option(names = "--regions", paramLabel = "N", defaultValue = "1",
      description = "Split the key space into N regions at even key boundaries before the load and wait for their "
          + "leaders to spread over the stores (default: ${DEFAULT-VALUE}: as the cluster is).")
  int regions;

  @Option(names = "--restart",
      description = "With --embedded: after the run, print each store's WAL bytes, then stop and restart each store "
          + "on its data and print how long it took to start serving.")
  boolean restart;

  @Override
  public Integer call() {
    KvBenchSettings settings = settings();
    List<InetSocketAddress> pdAddresses = settings.embedded() ? List.of() : pdAddresses(settings.pd());
    PrintWriter out = spec.commandLine().getOut();
    if (!settings.embedded()) {
      return run(settings, () -> KvTarget.remote(pdAddresses, settings.pd()), out);
    }
    Path dataDir = BenchFiles.dataDir(settings.dir(), "flotilla-bench-kv-", spec.commandLine());
    // NB: a temp dir must not outlive an interrupted run (Ctrl-C) either.
    Thread cleanup = new Thread(() -> BenchFiles.deleteRecursively(dataDir), "bench-cleanup");
    if (settings.dir() == null) {
      Runtime.getRuntime().addShutdownHook(cleanup);
    }
    try {
      return run(settings, () -> KvTarget.embedded(dataDir, settings.stores(), settings.fsync(), regions > 1), out);
    } finally {
      if (settings.dir() == null) {
        BenchFiles.deleteRecursively(dataDir);
        BenchFiles.removeHook(cleanup);
      }
    }
  }

  private KvBenchSettings settings() {
    if (embedded && pd != null) {
      throw new ParameterException(spec.commandLine(), "--pd and --embedded exclude each other: connect to a "
          + "running cluster, or start one in this JVM");
    }
    if (!embedded) {
      onlyWithEmbedded("--stores", stores);
      onlyWithEmbedded("--fsync", fsync);
      onlyWithEmbedded("--dir", dir);
      onlyWithEmbedded("--restart", restart ? Boolean.TRUE : null);
    }
    if (regions < 1 || regions > 4096 || (keys >= 1 && regions > keys)) {
      throw new ParameterException(spec.commandLine(), "--regions must be in [1, min(4096, --keys)], got " + regions);
    }
    try {
      return new KvBenchSettings(embedded ? null : pd == null ? DEFAULT_PD : pd, embedded,
          stores == null ? DEFAULT_STORES : stores, fsync == null || fsync, dir, readRatio, valueSize, keys,
          concurrency, duration, warmup, skipLoad).validate();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private void onlyWithEmbedded(String option, Object value) {
    if (value != null) {
      throw new ParameterException(spec.commandLine(), option + " applies only with --embedded");
    }
  }

  private List<InetSocketAddress> pdAddresses(String addresses) {
    return PdAddresses.parse(addresses, spec.commandLine());
  }


  private int run(KvBenchSettings s, Supplier<KvTarget> opener, PrintWriter out) {
    Map<String, Object> result;
    KvWorkload.Measurement m;
    long t0 = System.nanoTime();
    String where = s.embedded()
        ? String.format(Locale.ROOT, "embedded, %d stores, fsync %s", s.stores(), s.fsync() ? "on" : "off")
        : "PD " + s.pd();
    KvReport report = new KvReport(s, where, out);
    out.println("kv bench: " + report.describe());
    try (KvTarget target = opener.get()) {
      target.awaitReady(s.embedded() ? EMBEDDED_READY_TIMEOUT : REMOTE_READY_TIMEOUT);
      out.printf(Locale.ROOT, "cluster ready (%.1f s)%n", (System.nanoTime() - t0) / 1e9);
      if (regions > 1) {
        Presplit.run(pdAddresses(target.pd()), s.keys(), regions, out, PRESPLIT_TIMEOUT);
      }
      report.loaded(s.skipLoad() ? null
          : new Loader(target.client(), s.keys(), s.valueBytes(), Math.min(s.concurrency(), LOAD_LANES)).run(out));
      m = KvWorkload.run(target, s, report);
      result = report.summary(m);
      result.put("presplit_regions", regions);
      if (restart) {
        result.put("restarts", restarts(target, out));
      }
    }
    if (json != null) {
      BenchFiles.writeJson(json, result);
      out.println("  results written to " + json);
    }
    failIfTooManyErrors(m, report.measuredOps());
    return 0;
  }

  private static List<Map<String, Object>> restarts(KvTarget target, PrintWriter out) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (KvTarget.Restart r : target.restartStores()) {
      out.printf(Locale.ROOT, "  store %d: WAL %.1f MiB (data dir %.1f MiB), restarted in %.2f s%n", r.storeId(),
          r.walBytes() / 1048576.0, r.dataDirBytes() / 1048576.0, r.took().toNanos() / 1e9);
      Map<String, Object> row = new java.util.LinkedHashMap<>();
      row.put("store", r.storeId());
      row.put("wal_bytes", r.walBytes());
      row.put("data_dir_bytes", r.dataDirBytes());
      row.put("restart_seconds", r.took().toNanos() / 1e9);
      rows.add(row);
    }
    return rows;
  }

  /** Throws {@link BenchException} if no operation succeeded or more than {@link #MAX_ERROR_RATE} failed. */
  static void failIfTooManyErrors(KvWorkload.Measurement m, long ops) {
    KvLoadGenerator.Errors e = m.errors();
    String first = m.firstError() == null ? "" : "; first: " + m.firstError();
    if (ops == 0) {
      throw new BenchException("no operation succeeded in the measured time (" + e.total() + " failed" + first + ")");
    }
    double rate = (double) e.total() / (ops + e.total());
    if (rate > MAX_ERROR_RATE) {
      throw new BenchException(String.format(Locale.ROOT, "%.2f%% of the measured operations failed, more than %.0f%% "
          + "(outcome unknown %,d, deadline %,d, other %,d)%s", 100 * rate, 100 * MAX_ERROR_RATE, e.outcomeUnknown(),
          e.deadline(), e.other(), first));
    }
  }
}
