package io.flotilla.bench.raft;

import io.flotilla.bench.BenchException;
import io.flotilla.bench.BenchFiles;
import io.flotilla.bench.DurationConverter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla bench raft}: proposals through the whole Raft path of a few real nodes (RocksDB
 * with group commit, the Netty transport on loopback, the multi-group driver, a state machine that
 * only counts), with closed-loop load, or with {@code --idle} the cost of hibernated groups.
 *
 * <p>With {@code --processes} each node runs in its own JVM ({@link RaftBenchNode}) and generates
 * the load for the groups it leads, with its share of the concurrency; this process adds up their
 * reports. See {@link ProcessCluster}.
 */
@Command(
    name = "raft",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Raft proposals/s and commit latency on real nodes (or, with --idle, the cost of hibernated groups).",
    description = {
        "Proposals through the whole Raft path of real nodes on loopback: RocksDB with group commit, the batched "
            + "Netty transport, the multi-group driver, and a state machine that only counts. Closed-loop load; "
            + "prints ops/s every second, then proposals/s, commit latency percentiles (HdrHistogram, warmup "
            + "excluded), entries per fsync, raft frames/s and CPU cores used.",
        "With --idle: waits until every group hibernates, measures the CPU used while idle, then times a proposal "
            + "to every group (waking them all)."},
    footer = {"", "Examples:",
        "  flotilla bench raft --groups 256 --payload 100 --fsync true",
        "  flotilla bench raft --groups 1 --concurrency 256 --json result.json",
        "  flotilla bench raft --idle --groups 10000"})
public final class RaftBench implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RaftBench.class);

  /**
   * Proposals in flight by default. The target load is 100,000 proposals/s with p99 under 25 ms;
   * in-flight = throughput x latency, so that is about 1,000 in flight at a ~10 ms mean. 4,096 would
   * make a 25 ms p99 impossible at that throughput (its mean latency alone would be 41 ms).
   */
  static final int DEFAULT_CONCURRENCY = 1024;
  /** How long --idle waits for every replica to hibernate before it measures anyway. */
  private static final Duration HIBERNATION_TIMEOUT = Duration.ofSeconds(120);

  @Spec
  CommandSpec spec;

  @Option(names = "--nodes", paramLabel = "N", defaultValue = "3",
      description = "Nodes; every group has a replica on each (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = "--processes",
      description = "One JVM per node instead of all nodes in this JVM; each node process drives the groups it "
          + "leads with its share of the concurrency.")
  boolean processes;

  @Option(names = "--groups", paramLabel = "N", defaultValue = "256",
      description = "Raft groups (default: ${DEFAULT-VALUE}). With --idle: hibernated groups per node.")
  int groups;

  @Option(names = "--payload", paramLabel = "BYTES", defaultValue = "100",
      description = "Bytes per proposal (default: ${DEFAULT-VALUE}).")
  int payload;

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "" + DEFAULT_CONCURRENCY,
      description = "Proposals in flight in total, closed loop, each to the leader of the next group round-robin "
          + "(default: ${DEFAULT-VALUE}: by Little's law 100,000 proposals/s at about 10 ms commit latency is "
          + "about 1,000 in flight; more raises throughput only by raising latency).")
  int concurrency;

  @Option(names = "--duration", paramLabel = "TIME", defaultValue = "30s", converter = DurationConverter.class,
      description = "Measured time, e.g. 30s, 2m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--warmup", paramLabel = "TIME", defaultValue = "10s", converter = DurationConverter.class,
      description = "Load (or idle) time before measuring, not counted (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--fsync", paramLabel = "true|false", arity = "1", defaultValue = "true",
      description = "Sync the WAL on every storage batch (default: ${DEFAULT-VALUE}); false is for experiments.")
  boolean fsync;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the results to this JSON file.")
  Path json;

  @Option(names = "--idle",
      description = "Measure idle cost instead: wait until all groups hibernate, measure CPU used over the "
          + "duration, then time a proposal to every group (waking them all).")
  boolean idle;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Keep the nodes' data here (must be empty or absent); default: a temp dir deleted at the end.")
  Path dir;

  @Option(names = "--node-java-opts", paramLabel = "OPTS",
      description = "JVM options for the node processes of --processes, e.g. \"-Xmx2g\".")
  String nodeJavaOpts;

  @Override
  public Integer call() {
    RaftBenchSettings settings;
    try {
      settings = new RaftBenchSettings(nodes, processes, groups, payload, concurrency, duration, warmup, fsync, idle,
          dir).validate();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    Path dataDir = BenchFiles.dataDir(settings.dir(), "flotilla-bench-raft-", spec.commandLine());
    // NB: a temp dir must not outlive an interrupted run (Ctrl-C) either.
    Thread cleanup = new Thread(() -> BenchFiles.deleteRecursively(dataDir), "bench-cleanup");
    if (dir == null) {
      Runtime.getRuntime().addShutdownHook(cleanup);
    }
    try {
      Map<String, Object> result = run(settings, dataDir, out);
      if (json != null) {
        BenchFiles.writeJson(json, result);
        out.println("  results written to " + json);
      }
      return 0;
    } finally {
      if (dir == null) {
        BenchFiles.deleteRecursively(dataDir);
        BenchFiles.removeHook(cleanup);
      }
    }
  }

  private Map<String, Object> run(RaftBenchSettings s, Path dataDir, PrintWriter out) {
    long t0 = System.nanoTime();
    try (BenchCluster cluster = s.processes()
        ? new ProcessCluster(s, dataDir, javaOptions())
        : new EmbeddedCluster(s, dataDir)) {
      Report report = new Report(s, cluster.jvms(), out);
      out.println("raft bench: " + report.describe());
      cluster.startGroups();
      out.printf(Locale.ROOT, "%,d groups on %d nodes have leaders (%.1f s)%n", s.groups(), s.nodes(),
          (System.nanoTime() - t0) / 1e9);
      if (!s.idle()) {
        return report.throughput(cluster.throughput(report));
      }
      long replicas = cluster.replicas();
      long t1 = System.nanoTime();
      long hibernated = cluster.awaitHibernation(HIBERNATION_TIMEOUT);
      out.printf(Locale.ROOT, "%,d of %,d replicas hibernating (%.1f s)%n", hibernated, replicas,
          (System.nanoTime() - t1) / 1e9);
      if (hibernated < replicas) {
        LOG.warn("only {} of {} replicas hibernated; measuring anyway", hibernated, replicas);
      }
      List<Workload.Result> idleResults = cluster.idle(report);
      long wakeStart = System.nanoTime();
      List<WakeAll.Result> wakes = cluster.wakeAll();
      long wakeNanos = System.nanoTime() - wakeStart;
      return report.idle(idleResults, hibernated, replicas, wakes, wakeNanos);
    }
  }

  private List<String> javaOptions() {
    if (nodeJavaOpts == null || nodeJavaOpts.isBlank()) {
      return List.of();
    }
    return Arrays.asList(nodeJavaOpts.trim().split("\\s+"));
  }
}
