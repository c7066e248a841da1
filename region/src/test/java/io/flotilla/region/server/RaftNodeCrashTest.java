package io.flotilla.region.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.TransportConfig;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety across real processes: three {@link CrashNodeMain} JVMs on fixed data dirs and
 * ports; clients propose unique values to leaders while a random node is SIGKILLed every 1–2 s and
 * restarted on its data dir a moment later. Afterwards every acknowledged proposal is applied
 * exactly once on every replica and the replicas of each group agree. Takes
 * {@code -Dflotilla.seed} (which nodes die when, which groups get proposals) and prints it on
 * failure, with the tail of each node's log.
 */
class RaftNodeCrashTest {
  private static final long SEED = Long.getLong("flotilla.seed", System.nanoTime());
  private static final int NODES = 3;
  private static final int GROUPS = 20;
  private static final int CLIENTS = 6;
  private static final Duration CHAOS = Duration.ofSeconds(15);
  /** {@code Process.exitValue()} of a process killed by SIGKILL (128 + 9). */
  private static final int KILLED_BY_SIGKILL = 137;
  /** Names of {@link CrashNodeMain}'s propose statuses, by status byte. */
  private static final String[] OUTCOMES = {"applied", "notLeader", "dropped", "unknown"};

  @RegisterExtension
  static final TestWatcher PRINT_SEED = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      System.out.printf("%s failed; replay with -Dflotilla.seed=%d%n", context.getDisplayName(), SEED);
      context.getTestInstance().map(RaftNodeCrashTest.class::cast).ifPresent(RaftNodeCrashTest::printLogTails);
    }
  };

  @TempDir Path dir;
  private final Map<Long, Integer> ports = new HashMap<>();
  private final Map<Long, Process> processes = new ConcurrentHashMap<>();
  private final List<Thread> clientThreads = new ArrayList<>();
  private final AtomicBoolean stopClients = new AtomicBoolean();
  /** Proposal outcomes by kind, as the clients saw them. */
  private final Map<String, LongAdder> outcomes = new ConcurrentSkipListMap<>();
  private RpcClient client;

  @AfterEach
  void killNodes() throws InterruptedException {
    stopClients.set(true);
    for (Thread t : clientThreads) {
      t.join(10_000);
    }
    for (Process p : processes.values()) {
      p.destroyForcibly();
    }
    for (Process p : processes.values()) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
    if (client != null) {
      client.close();
    }
  }

  @Test
  void acknowledgedProposalsSurviveSigkillAndRestartExactlyOnceOnEveryReplica() throws Exception {
    SplittableRandom rnd = new SplittableRandom(SEED);
    pickPorts();
    client = new RpcClient(TransportConfig.defaults().withIoThreads(1).withReconnectBackoffMs(20, 200));
    long t0 = System.nanoTime();
    for (long n = 1; n <= NODES; n++) {
      launch(n);
    }
    for (long n = 1; n <= NODES; n++) {
      awaitReady(n);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> groupsWithLeader() == GROUPS);
    System.out.printf("%d node processes up, %d groups with leaders after %d ms%n", NODES, GROUPS, millisSince(t0));

    Map<Long, Set<String>> acked = new ConcurrentHashMap<>();
    AtomicLong attempts = new AtomicLong();
    AtomicLongArray leaderGuess = new AtomicLongArray(GROUPS + 1);
    for (int i = 0; i < CLIENTS; i++) {
      int clientId = i;
      SplittableRandom clientRnd = rnd.split();
      Thread t = new Thread(() -> proposeUntilStopped(clientId, clientRnd, leaderGuess, acked, attempts),
          "crash-test-client-" + i);
      t.setDaemon(true);
      clientThreads.add(t);
      t.start();
    }

    int kills = 0;
    long chaosStart = System.nanoTime();
    while (System.nanoTime() - chaosStart < CHAOS.toNanos()) {
      Thread.sleep(1_000 + rnd.nextInt(1_000)); // pacing of the faults, not a wait for a condition
      long victim = 1 + rnd.nextInt(NODES);
      Process p = processes.get(victim);
      assertThat(p.isAlive()).as("seed %d: node %d died on its own (exit %s)", SEED, victim,
          p.isAlive() ? "-" : String.valueOf(p.exitValue())).isTrue();
      p.destroyForcibly();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("node %d dies", victim).isTrue();
      assertThat(p.exitValue()).as("node %d was killed by SIGKILL", victim).isEqualTo(KILLED_BY_SIGKILL);
      kills++;
      Thread.sleep(200 + rnd.nextInt(400)); // the node stays down a moment
      launch(victim);
    }
    stopClients.set(true);
    for (Thread t : clientThreads) {
      t.join(10_000);
    }
    long ackedCount = acked.values().stream().mapToLong(Set::size).sum();

    long healStart = System.nanoTime();
    for (long n = 1; n <= NODES; n++) {
      awaitReady(n);
    }
    Map<Long, List<List<String>>> lists = new HashMap<>();
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
        lists.clear();
        for (long g = 1; g <= GROUPS; g++) {
          List<List<String>> replicas = dumps(g);
          if (replicas == null || replicas.stream().distinct().count() != 1) {
            return false;
          }
          lists.put(g, replicas);
        }
        return groupsWithLeader() == GROUPS;
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("seed " + SEED + ": replicas did not converge: " + divergence(), e);
    }
    System.out.printf("seed %d: %d kills in %d ms; %d proposals, %d acknowledged, outcomes %s; %d snapshots"
        + " applied; converged %d ms after the last restart; whole test %d ms%n", SEED, kills, CHAOS.toMillis(),
        attempts.get(), ackedCount, outcomes, snapshotsApplied(), millisSince(healStart), millisSince(t0));

    for (long g = 1; g <= GROUPS; g++) {
      List<String> applied = lists.get(g).get(0);
      Map<String, Integer> counts = new HashMap<>();
      applied.forEach(v -> counts.merge(v, 1, Integer::sum));
      for (String v : acked.getOrDefault(g, Set.of())) {
        assertThat(counts.getOrDefault(v, 0)).as("seed %d group %d: acknowledged %s applied exactly once", SEED, g, v)
            .isEqualTo(1);
      }
      // Every value was proposed once, so no value may appear twice, acknowledged or not.
      assertThat(counts.values()).as("seed %d group %d: no duplicates", SEED, g).allMatch(c -> c == 1);
    }
    assertThat(kills).isGreaterThanOrEqualTo(5);
    assertThat(ackedCount).as("seed %d: proposals were acknowledged during the kills", SEED).isGreaterThan(200);
  }

  // ------------------------------------------------------------------ clients

  /** One client: proposes unique values to the group's leader as it knows it, records successes. */
  private void proposeUntilStopped(int clientId, SplittableRandom rnd, AtomicLongArray leaderGuess,
      Map<Long, Set<String>> acked, AtomicLong attempts) {
    long seq = 0;
    while (!stopClients.get()) {
      int g = 1 + rnd.nextInt(GROUPS);
      long node = leaderGuess.get(g);
      if (node == 0) {
        node = 1 + rnd.nextInt(NODES);
      }
      String value = "c" + clientId + "-" + seq++;
      byte[] v = value.getBytes(StandardCharsets.UTF_8);
      byte[] request = ByteBuffer.allocate(8 + v.length).putLong(g).put(v).array();
      attempts.incrementAndGet();
      byte[] response = call(node, "propose", request, Duration.ofSeconds(5));
      outcomes.computeIfAbsent(response == null ? "unreachable" : OUTCOMES[response[0]], k -> new LongAdder())
          .increment();
      if (response != null && response[0] == CrashNodeMain.APPLIED) {
        acked.computeIfAbsent((long) g, k -> ConcurrentHashMap.newKeySet()).add(value);
        continue;
      }
      if (response != null && response[0] == CrashNodeMain.NOT_LEADER) {
        long hint = ByteBuffer.wrap(response, 1, 8).getLong();
        leaderGuess.set(g, hint != node ? hint : 0);
      } else if (response == null) {
        leaderGuess.set(g, node % NODES + 1); // unreachable: try the next node
      }
      pause(20); // back off after a failure instead of spinning on a dead or leaderless node
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The response, or null if the node could not be reached or did not answer in time. */
  private byte[] call(long node, String method, byte[] request, Duration deadline) {
    try {
      return client.call(new InetSocketAddress("127.0.0.1", ports.get(node)), method, request, deadline)
          .get(deadline.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private int groupsWithLeader() {
    int n = 0;
    for (long g = 1; g <= GROUPS; g++) {
      for (long node = 1; node <= NODES; node++) {
        byte[] r = call(node, "leader", groupRequest(g), Duration.ofSeconds(2));
        if (r != null && ByteBuffer.wrap(r).getLong() != 0) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  /** Each node's applied list of a group, or null if a node did not answer. */
  private List<List<String>> dumps(long g) {
    List<List<String>> out = new ArrayList<>();
    for (long node = 1; node <= NODES; node++) {
      byte[] r = call(node, "dump", groupRequest(g), Duration.ofSeconds(5));
      if (r == null) {
        return null;
      }
      List<String> applied = new ArrayList<>();
      for (byte[] c : CrashNodeMain.decode(r)) {
        applied.add(new String(c, StandardCharsets.UTF_8));
      }
      out.add(applied);
    }
    return out;
  }

  private String divergence() {
    StringJoiner sj = new StringJoiner("; ");
    for (long g = 1; g <= GROUPS; g++) {
      List<List<String>> replicas = dumps(g);
      if (replicas == null) {
        sj.add("group " + g + ": a node does not answer");
      } else if (replicas.stream().distinct().count() != 1) {
        StringJoiner sizes = new StringJoiner(", ");
        replicas.forEach(r -> sizes.add(String.valueOf(r.size())));
        sj.add("group " + g + ": applied counts " + sizes);
      }
    }
    return sj.toString();
  }

  private static byte[] groupRequest(long g) {
    return ByteBuffer.allocate(8).putLong(g).array();
  }

  // ------------------------------------------------------------------ processes

  /** Free ports below the ephemeral range, so no outgoing connection can hold one when a node restarts. */
  private void pickPorts() throws IOException {
    while (ports.size() < NODES) {
      int port = 20_000 + ThreadLocalRandom.current().nextInt(12_000);
      if (ports.containsValue(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
        ports.put((long) ports.size() + 1, s.getLocalPort());
      } catch (IOException inUse) {
        // try another
      }
    }
  }

  private Path logOf(long node) {
    return dir.resolve("node-" + node + ".log");
  }

  private void launch(long node) throws IOException {
    StringJoiner addresses = new StringJoiner(",");
    ports.forEach((id, port) -> addresses.add(id + "=" + port));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), CrashNodeMain.class.getName(),
        String.valueOf(node), dir.resolve("data-" + node).toString(), String.valueOf(GROUPS), addresses.toString());
    pb.redirectErrorStream(true);
    // NB: straight to a file, so the child never blocks on a full pipe and no thread has to drain it.
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logOf(node).toFile()));
    processes.put(node, pb.start());
  }

  private void awaitReady(long node) {
    Process p = processes.get(node);
    String ready = "READY node=" + node + " pid=" + p.pid();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      if (!p.isAlive()) {
        throw new AssertionError("node " + node + " exited with " + p.exitValue() + " while starting");
      }
      return Files.readString(logOf(node)).contains(ready);
    });
  }

  /** Snapshots applied by every incarnation of every node, as their logs tell. */
  private long snapshotsApplied() throws IOException {
    long n = 0;
    for (long node = 1; node <= NODES; node++) {
      for (String line : Files.readAllLines(logOf(node))) {
        if (line.startsWith(CrashNodeMain.SNAPSHOTS_APPLIED)) {
          n += Long.parseLong(line.substring(CrashNodeMain.SNAPSHOTS_APPLIED.length()));
        }
      }
    }
    return n;
  }

  private long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private void printLogTails() {
    for (long node = 1; node <= NODES; node++) {
      File log = logOf(node).toFile();
      if (!log.exists()) {
        continue;
      }
      try {
        List<String> lines = Files.readAllLines(log.toPath());
        System.out.printf("---- last lines of node %d's log (%d lines)%n", node, lines.size());
        lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(System.out::println);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
