package io.flotilla.region.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.DriverCounters;
import io.flotilla.region.driver.RaftDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@link RaftNode}s in one JVM over real Netty on 127.0.0.1 and real RocksDB with fsync on,
 * 1,000 groups each. Randomized parts take {@code -Dflotilla.seed} and print it on failure.
 */
class RaftNodeNettyTest {
  private static final long SEED = Long.getLong("flotilla.seed", System.nanoTime());
  private static final int GROUPS = 1000;

  @RegisterExtension
  static final TestWatcher PRINT_SEED = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      System.out.printf("%s failed; replay with -Dflotilla.seed=%d%n", context.getDisplayName(), SEED);
    }
  };

  @TempDir Path dir;
  private NettyCluster cluster;

  private static DriverConfig driverConfig() {
    // 50 ms ticks: election timeout 500 ms (10 ticks), heartbeats every 100 ms.
    return DriverConfig.defaults().withTickIntervalMs(50).withPollerThreads(1).withNodeDeadAfterMs(1_000)
        .withProposalTimeoutMs(5_000);
  }

  private static TransportConfig transportConfig() {
    return TransportConfig.defaults().withIoThreads(1).withHeartbeatIntervalMs(200)
        .withReconnectBackoffMs(50, 500);
  }

  private NettyCluster startCluster() {
    return startCluster(driverConfig(), GROUPS);
  }

  private NettyCluster startCluster(DriverConfig config, int groups) {
    cluster = new NettyCluster(dir, 3, config, transportConfig());
    long t0 = System.nanoTime();
    cluster.startGroups(groups);
    await().atMost(Duration.ofSeconds(60)).until(() -> cluster.groupsWithLeader(groups) == groups);
    System.out.printf("%d groups on 3 nodes started and elected leaders in %d ms%n", groups, millisSince(t0));
    return cluster;
  }

  @AfterEach
  void closeCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void thousandGroupsElectLeadersAndCommitOnEveryReplica() throws Exception {
    NettyCluster c = startCluster();
    long t0 = System.nanoTime();
    List<CompletableFuture<Object>> acks = new ArrayList<>();
    for (long g = 1; g <= GROUPS; g++) {
      acks.add(c.driver(c.leaderOf(g)).propose(g, ("v" + g).getBytes(StandardCharsets.UTF_8)));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    long ackedMs = millisSince(t0);
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      for (long node : c.nodeIds) {
        for (long g = 1; g <= GROUPS; g++) {
          if (c.applied(node, g).size() != 1) {
            return false;
          }
        }
      }
      return true;
    });
    System.out.printf("%d proposals (one per group) acknowledged in %d ms, applied on every replica in %d ms%n",
        GROUPS, ackedMs, millisSince(t0));
    for (long node : c.nodeIds) {
      for (long g = 1; g <= GROUPS; g++) {
        assertThat(c.applied(node, g)).as("node %d group %d", node, g).containsExactly("v" + g);
      }
    }
  }

  @Test
  void partitionsAndLossThenHealingConvergeWithoutLosingAcknowledgedProposals() throws Exception {
    NettyCluster c = startCluster();
    SplittableRandom rnd = new SplittableRandom(SEED);
    Map<Long, Set<String>> acked = new ConcurrentHashMap<>();
    AtomicLong proposed = new AtomicLong();
    Map<String, LongAdder> outcomes = new ConcurrentSkipListMap<>();
    long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    int faultChanges = 0;
    for (int round = 0; System.nanoTime() < end; round++) {
      // A new fault every ~400 ms: a cut between two nodes or a node cut off from both others,
      // with or without message loss; or loss alone; or none.
      if (round % 10 == 0) {
        c.faults.heal();
        long a = 1 + rnd.nextInt(3);
        switch (rnd.nextInt(3)) {
          case 0 -> c.faults.cut(a, a % 3 + 1);
          case 1 -> {
            c.faults.cut(a, a % 3 + 1);
            c.faults.cut(a, (a + 1) % 3 + 1);
          }
          default -> { }
        }
        if (rnd.nextBoolean()) {
          c.faults.lossRate(0.3 * rnd.nextDouble());
        }
        faultChanges++;
      }
      for (int i = 0; i < 30; i++) {
        long g = 1 + rnd.nextInt(GROUPS);
        // Any replica that believes it leads, a deposed one on the wrong side of a cut included.
        long leader = c.anyLeaderOf(g, rnd);
        if (leader == 0) {
          continue;
        }
        String v = "v" + proposed.incrementAndGet();
        c.driver(leader).propose(g, v.getBytes(StandardCharsets.UTF_8)).whenComplete((r, ex) -> {
          if (ex == null) {
            acked.computeIfAbsent(g, k -> ConcurrentHashMap.newKeySet()).add(v);
          }
          outcomes.computeIfAbsent(ex == null ? "applied" : ex.getClass().getSimpleName(), k -> new LongAdder())
              .increment();
        });
      }
      Thread.sleep(40); // pacing of the load generator, not a wait for a condition
    }
    String faultsSeen = c.faults.toString();
    c.faults.heal();
    long t0 = System.nanoTime();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> firstDivergentGroup(c) == 0);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      long g = firstDivergentGroup(c);
      throw new AssertionError("seed " + SEED + ": group " + g + " did not converge:" + c.describe(g), e);
    }
    long convergedMs = millisSince(t0);
    int ackedCount = 0;
    for (long g = 1; g <= GROUPS; g++) {
      List<String> applied = c.applied(1, g);
      assertThat(new HashSet<>(applied)).as("seed %d group %d: no duplicates", SEED, g).hasSize(applied.size());
      Set<String> a = acked.getOrDefault(g, Set.of());
      assertThat(applied).as("seed %d group %d: every acknowledged proposal", SEED, g).containsAll(a);
      ackedCount += a.size();
    }
    System.out.printf("seed %d: %d fault changes (last: %s), %d proposals, %d acknowledged, outcomes %s; converged"
        + " %d ms after healing%n", SEED, faultChanges, faultsSeen, proposed.get(), ackedCount, outcomes, convergedMs);
    assertThat(ackedCount).as("seed %d: proposals were acknowledged during the faults", SEED).isGreaterThan(500);
  }

  @Test
  void groupsOfAClosedLeaderNodeElectNewLeadersAfterHibernating() throws Exception {
    NettyCluster c = startCluster();
    // Every group on every node hibernates (a wake is counted only for a hibernated group).
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> c.nodeIds.stream().allMatch(n -> sleeping(c.driver(n)) == GROUPS));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      c.nodeIds.forEach(n -> System.out.println("node " + n + " " + c.driver(n).counters()));
      throw e;
    }
    Map<Long, List<Long>> ledBy = new ConcurrentHashMap<>();
    for (long g = 1; g <= GROUPS; g++) {
      ledBy.computeIfAbsent(c.leaderOf(g), k -> new ArrayList<>()).add(g);
    }
    long victim = c.nodeIds.stream().max((a, b) -> Integer.compare(
        ledBy.getOrDefault(a, List.of()).size(), ledBy.getOrDefault(b, List.of()).size())).orElseThrow();
    List<Long> orphans = ledBy.get(victim);
    Map<Long, Long> wakesBefore = new ConcurrentHashMap<>();
    c.nodeIds.stream().filter(n -> n != victim).forEach(n -> wakesBefore.put(n, c.driver(n).counters().wakes()));

    long t0 = System.nanoTime();
    c.stop(victim);
    // When each orphan was first seen with a new leader (polled every 20 ms).
    Map<Long, Long> electedMs = new ConcurrentHashMap<>();
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
        for (long g : orphans) {
          if (!electedMs.containsKey(g) && c.leaderOf(g) != 0) {
            electedMs.put(g, millisSince(t0));
          }
        }
        return electedMs.size() == orphans.size();
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      long g = orphans.stream().filter(x -> c.leaderOf(x) == 0).findFirst().orElse(0L);
      throw new AssertionError("group " + g + " has no new leader:" + c.describe(g), e);
    }
    List<Long> times = new ArrayList<>(electedMs.values());
    times.sort(null);
    long ms = times.get(times.size() - 1);
    DriverConfig cfg = c.driverConfig;
    long electionMs = cfg.electionTick() * cfg.tickIntervalMs();
    System.out.printf("node %d led %d of %d hibernated groups; after it closed, new leaders: first %d ms, median %d ms,"
        + " last %d ms (node dead after %d ms, election timeout %d ms)%n", victim, orphans.size(), GROUPS,
        times.get(0), times.get(times.size() / 2), ms, cfg.nodeDeadAfterMs(), electionMs);
    // Liveness notices the node within nodeDeadAfterMs; then an election within a few timeouts.
    assertThat(ms).isLessThan(cfg.nodeDeadAfterMs() + 4 * 2 * electionMs);
    for (long n : wakesBefore.keySet()) {
      assertThat(c.driver(n).counters().wakes() - wakesBefore.get(n))
          .as("node %d woke the hibernated groups of the closed node", n).isGreaterThanOrEqualTo(orphans.size());
    }
    List<CompletableFuture<Object>> acks = new ArrayList<>();
    for (long g : orphans) {
      acks.add(c.driver(c.leaderOf(g)).propose(g, "after".getBytes(StandardCharsets.UTF_8)));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
  }

  @Test
  void followerBehindACompactionCatchesUpByAStreamedSnapshot() throws Exception {
    int groups = 10;
    int proposals = 100;
    NettyCluster c = startCluster(driverConfig().withCompactLogAfterEntries(20), groups);
    // Every snapshot is "being built" the first three times the core asks: it must ask again.
    c.machines.values().forEach(m -> m.unavailableFirst = 3);
    long lagging = 3;
    c.faults.cut(lagging, 1);
    c.faults.cut(lagging, 2);
    // Groups the cut-off node led elect a leader on the other side (check quorum deposes it).
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      for (long g = 1; g <= groups; g++) {
        long leader = c.leaderOf(g);
        if (leader == 0 || leader == lagging) {
          return false;
        }
      }
      return true;
    });
    List<CompletableFuture<Object>> acks = new ArrayList<>();
    for (int i = 0; i < proposals; i++) {
      for (long g = 1; g <= groups; g++) {
        acks.add(c.driver(c.leaderOf(g)).propose(g, ("e" + i).getBytes(StandardCharsets.UTF_8)));
      }
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    c.faults.heal();
    long t0 = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      for (long g = 1; g <= groups; g++) {
        if (c.applied(lagging, g).size() != proposals) {
          return false;
        }
      }
      return true;
    });
    long snapshots = c.driver(lagging).counters().snapshotsApplied();
    System.out.printf("node %d caught up on %d groups of %d entries in %d ms with %d snapshots%n", lagging, groups,
        proposals, millisSince(t0), snapshots);
    for (long g = 1; g <= groups; g++) {
      assertThat(c.applied(lagging, g)).as("group %d", g).isEqualTo(c.applied(c.leaderOf(g), g));
    }
    assertThat(snapshots).as("the log was compacted past what node %d had", lagging).isGreaterThanOrEqualTo(groups);
    for (long g = 1; g <= groups; g++) {
      long group = g;
      assertThat(c.machines.values().stream().mapToInt(m -> m.unavailableAnswers.getOrDefault(group, 0)).sum())
          .as("group %d: answered unavailable, then asked again", g).isGreaterThanOrEqualTo(3);
      assertThat(c.machines.values().stream().mapToInt(m -> m.snapshotsServed.getOrDefault(group, 0)).sum())
          .as("group %d", g).isPositive();
    }
  }

  /** Groups hibernating on a node: every wake ends one hibernation. */
  private static long sleeping(RaftDriver d) {
    DriverCounters k = d.counters();
    return k.hibernations() - k.wakes();
  }

  /** 0 if every group has a leader and identical applied lists on every node, else the first group that does not. */
  private static long firstDivergentGroup(NettyCluster c) {
    for (long g = 1; g <= GROUPS; g++) {
      if (c.leaderOf(g) == 0) {
        return g;
      }
      List<String> first = c.applied(c.nodeIds.get(0), g);
      for (long node : c.nodeIds) {
        if (!c.applied(node, g).equals(first)) {
          return g;
        }
      }
    }
    return 0;
  }

  private static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
