package io.flotilla.bench.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one {@code bench raft} run does. Immutable; {@link #validate()} names the first bad setting
 * and its allowed range.
 *
 * @param nodes replicas of every group, one per node (nodes are 1..nodes)
 * @param processes one JVM per node instead of all nodes in this JVM
 * @param groups Raft groups, each with a replica on every node
 * @param payloadBytes bytes per proposal
 * @param concurrency proposals in flight, in total over all nodes (closed loop)
 * @param duration how long the measurement (or, with {@code idle}, the idle CPU measurement) runs
 * @param warmup how long the load runs (or the cluster idles) before measuring
 * @param fsync whether storage syncs its WAL on every batch
 * @param idle measure the cost of hibernated groups instead of throughput
 * @param dir where the nodes keep their data; null for a temp dir deleted at the end
 */
public record RaftBenchSettings(
    int nodes,
    boolean processes,
    int groups,
    int payloadBytes,
    int concurrency,
    Duration duration,
    Duration warmup,
    boolean fsync,
    boolean idle,
    Path dir) {

  static final int MAX_NODES = 9;
  static final int MAX_GROUPS = 1_000_000;
  static final int MAX_PAYLOAD_BYTES = 512 * 1024;
  static final int MAX_CONCURRENCY = 1_000_000;

  public RaftBenchSettings validate() {
    check(nodes >= 1 && nodes <= MAX_NODES, "--nodes", "in [1, " + MAX_NODES + "]", nodes);
    check(groups >= 1 && groups <= MAX_GROUPS, "--groups", "in [1, " + MAX_GROUPS + "]", groups);
    check(payloadBytes >= 1 && payloadBytes <= MAX_PAYLOAD_BYTES, "--payload",
        "in [1, " + MAX_PAYLOAD_BYTES + "] bytes", payloadBytes);
    check(concurrency >= 1 && concurrency <= MAX_CONCURRENCY, "--concurrency",
        "in [1, " + MAX_CONCURRENCY + "]", concurrency);
    check(duration != null && duration.toMillis() >= 100, "--duration", "at least 100ms", duration);
    check(warmup != null && !warmup.isNegative(), "--warmup", "0s or more", warmup);
    return this;
  }

  private static void check(boolean ok, String option, String allowed, Object value) {
    if (!ok) {
      throw new IllegalArgumentException(option + " must be " + allowed + ", got " + value);
    }
  }

  /** The node ids, 1..nodes. */
  List<Long> nodeIds() {
    List<Long> ids = new ArrayList<>(nodes);
    for (long id = 1; id <= nodes; id++) {
      ids.add(id);
    }
    return ids;
  }

  /** The node that campaigns first for a group, so that leaders start out evenly spread. */
  long designatedLeader(long groupId) {
    return (groupId - 1) % nodes + 1;
  }

  /** Arguments handing these settings to a node process ({@link RaftBenchNode}). */
  List<String> toArgs() {
    return List.of(
        "nodes=" + nodes,
        "groups=" + groups,
        "payload=" + payloadBytes,
        "concurrency=" + concurrency,
        "durationNanos=" + duration.toNanos(),
        "warmupNanos=" + warmup.toNanos(),
        "fsync=" + fsync,
        "idle=" + idle,
        "dir=" + dir);
  }

  /** Reads what {@link #toArgs()} wrote; the settings of a node process. */
  static RaftBenchSettings fromArgs(List<String> args) {
    Map<String, String> m = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("expected key=value, got '" + a + "'");
      }
      m.put(a.substring(0, eq), a.substring(eq + 1));
    }
    return new RaftBenchSettings(
        Integer.parseInt(required(m, "nodes")),
        true,
        Integer.parseInt(required(m, "groups")),
        Integer.parseInt(required(m, "payload")),
        Integer.parseInt(required(m, "concurrency")),
        Duration.ofNanos(Long.parseLong(required(m, "durationNanos"))),
        Duration.ofNanos(Long.parseLong(required(m, "warmupNanos"))),
        Boolean.parseBoolean(required(m, "fsync")),
        Boolean.parseBoolean(required(m, "idle")),
        Path.of(required(m, "dir"))).validate();
  }

  private static String required(Map<String, String> m, String key) {
    String v = m.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing " + key + "=...");
    }
    return v;
  }
}
