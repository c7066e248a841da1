package io.flotilla.bench.raft;

import io.flotilla.bench.BenchException;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of {@code bench raft --processes}, in its own JVM: a {@link BenchNodes} with one node,
 * commanded by the parent over stdin, answering on stdout. It runs the load generator itself, for
 * the groups its node leads, with its share of the concurrency (concurrency x groups led here /
 * groups), so no proposal crosses a process boundary before it reaches its leader.
 *
 * <p>Protocol, one line each way per step; answers start with {@code @@} (logs go to stderr):
 *
 * <pre>
 *   (start)                       -> @@ PORT port
 *   PEERS 1=host:port 2=...       -> connects to the other nodes     -> @@ CONNECTED
 *   START first last              -> starts groups first..last       -> @@ STARTED
 *   CAMPAIGN first last           -> campaigns, waits for leaders    -> @@ LEADERS groupsLedHere
 *   RUN                           -> @@ TICK interval (per tick) ... -> @@ RESULT result
 *   SETTLE timeoutMs              -> waits for hibernation          -> @@ SETTLED hibernated replicas
 *   IDLE                          -> @@ TICK interval (per tick) ... -> @@ RESULT result
 *   WAKE                          -> one proposal per group led here -> @@ WOKEN result
 *   STOP (or end of input)        -> closes the node                -> @@ BYE, exit 0
 *   (any failure)                 -> @@ FAILED message, exit 1
 * </pre>
 *
 * Groups start in waves (see {@link BenchCluster#startGroups}); campaigning is a step of its own
 * so that every node has started a wave's groups before any asks for votes.
 */
public final class RaftBenchNode {
  private static final Logger LOG = LoggerFactory.getLogger(RaftBenchNode.class);
  static final String PREFIX = "@@ ";

  private final long nodeId;
  private final RaftBenchSettings settings;
  private final PrintStream wire;
  private BenchNodes nodes;

  private RaftBenchNode(long nodeId, RaftBenchSettings settings, PrintStream wire) {
    this.nodeId = nodeId;
    this.settings = settings;
    this.wire = wire;
  }

  /** {@code nodeId key=value...} as written by {@link RaftBenchSettings#toArgs()}. */
  public static void main(String[] args) {
    PrintStream wire = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    // NB: stdout carries the protocol only; anything printed by accident goes to stderr.
    System.setOut(System.err);
    int code;
    try {
      RaftBenchNode node = new RaftBenchNode(Long.parseLong(args[0]),
          RaftBenchSettings.fromArgs(Arrays.asList(args).subList(1, args.length)), wire);
      code = node.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
    } catch (RuntimeException | IOException e) {
      LOG.error("bench node failed: {}", e.toString(), e);
      wire.println(PREFIX + "FAILED " + String.valueOf(e.getMessage()).replace('\n', ' '));
      code = 1;
    }
    System.exit(code);
  }

  private int serve(BufferedReader commands) throws IOException {
    nodes = BenchNodes.start(settings, List.of(nodeId), settings.dir());
    try {
      answer("PORT " + nodes.addresses().get(nodeId).getPort());
      String line;
      while ((line = commands.readLine()) != null) {
        List<String> words = Arrays.asList(line.trim().split(" "));
        if (!step(words.get(0), words.subList(1, words.size()))) {
          break;
        }
      }
    } finally {
      nodes.close();
    }
    answer("BYE");
    return 0;
  }

  private boolean step(String command, List<String> args) {
    switch (command) {
      case "PEERS" -> {
        Map<Long, InetSocketAddress> peers = new TreeMap<>();
        for (String a : args) {
          String[] kv = a.split("=", 2);
          String[] hp = kv[1].split(":", 2);
          peers.put(Long.parseLong(kv[0]), new InetSocketAddress(hp[0], Integer.parseInt(hp[1])));
        }
        nodes.connect(peers);
        answer("CONNECTED");
      }
      case "START" -> {
        nodes.startGroups(Long.parseLong(args.get(0)), Long.parseLong(args.get(1)));
        answer("STARTED");
      }
      case "CAMPAIGN" -> {
        long first = Long.parseLong(args.get(0));
        long last = Long.parseLong(args.get(1));
        nodes.campaign(first, last);
        answer("LEADERS " + nodes.awaitLeaders(first, last, BenchCluster.WAVE_TIMEOUT));
      }
      case "RUN" -> {
        LeaderRouter router = LeaderRouter.groupsLedHere(nodes, settings.groups());
        int slots = Workload.slots(settings.concurrency(), router.candidateCount(), settings.groups());
        LOG.info("node {} runs {} proposal slots over the {} groups it leads", nodeId, slots, router.candidateCount());
        Workload.Result r = Workload.throughput(nodes, router, settings, slots, iv -> answer("TICK " + iv.encode()));
        answer("RESULT " + r.encode());
      }
      case "SETTLE" -> {
        long hibernated = Workload.awaitHibernation(nodes, Duration.ofMillis(Long.parseLong(args.get(0))));
        answer("SETTLED " + hibernated + " " + nodes.replicas());
      }
      case "IDLE" -> {
        Workload.Result r = Workload.idle(nodes, settings, iv -> answer("TICK " + iv.encode()));
        answer("RESULT " + r.encode());
      }
      case "WAKE" -> {
        LeaderRouter router = LeaderRouter.groupsLedHere(nodes, settings.groups());
        int inFlight = Workload.slots(settings.concurrency(), router.candidateCount(), settings.groups());
        answer("WOKEN " + WakeAll.run(nodes, router, settings.payloadBytes(), inFlight,
            BenchCluster.wakeTimeout(settings.groups())).encode());
      }
      case "STOP" -> {
        return false;
      }
      default -> throw new BenchException("unknown command '" + command + "' from the bench");
    }
    return true;
  }

  private void answer(String line) {
    wire.println(PREFIX + line);
  }
}
