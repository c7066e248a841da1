package io.flotilla.region.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.DriverCounters;
import io.flotilla.region.driver.RaftDriver;
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
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three-node cluster scenarios written once and run over every {@link FaultNetwork}: a subclass
 * says which {@link RaftCluster} to build ({@link InProcessClusterTest}, {@link NettyClusterTest}).
 * Randomized parts take {@code -Dflotilla.seed} and print it on failure.
 */
abstract class ClusterScenarios {
  private static final long SEED = Long.getLong("flotilla.seed", System.nanoTime());

  @RegisterExtension
  static final TestWatcher PRINT_SEED = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      System.out.printf("%s failed; replay with -Dflotilla.seed=%d%n", context.getDisplayName(), SEED);
    }
  };

  @TempDir Path dir;
  private RaftCluster cluster;

  /** The driver settings this kind of cluster runs the scenarios with. */
  protected abstract DriverConfig driverConfig();

  /** How many groups the many-group scenarios run: what this kind of cluster hosts in a few seconds. */
  protected abstract int groups();

  /** A three-node cluster of this kind in {@code dir}. */
  protected abstract RaftCluster newCluster(Path dir, DriverConfig config);

  private RaftCluster startCluster(DriverConfig config, int groups) {
    cluster = newCluster(dir, config);
    long t0 = System.nanoTime();
    cluster.startGroups(groups);
    RaftCluster c = cluster;
    await().atMost(Duration.ofSeconds(60)).until(() -> c.groupsWithLeader(groups) == groups);
    System.out.printf("%s: %d groups on 3 nodes started and elected leaders in %d ms%n",
        getClass().getSimpleName(), groups, millisSince(t0));
    return cluster;
  }

  @AfterEach
  void closeCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void manyGroupsElectLeadersAndCommitOnEveryReplica() throws Exception {
    int groups = groups();
    RaftCluster c = startCluster(driverConfig(), groups);
    long t0 = System.nanoTime();
    List<CompletableFuture<Object>> acks = new ArrayList<>();
    for (long g = 1; g <= groups; g++) {
      acks.add(c.propose(g, "v" + g));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    long ackedMs = millisSince(t0);
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      for (long node : c.nodeIds()) {
        for (long g = 1; g <= groups; g++) {
          if (c.applied(node, g).size() != 1) {
            return false;
          }
        }
      }
      return true;
    });
    System.out.printf("%d proposals (one per group) acknowledged in %d ms, applied on every replica in %d ms%n",
        groups, ackedMs, millisSince(t0));
    for (long node : c.nodeIds()) {
      for (long g = 1; g <= groups; g++) {
        assertThat(c.applied(node, g)).as("node %d group %d", node, g).containsExactly("v" + g);
      }
    }
  }

  @Test
  void partitionsAndLossThenHealingConvergeWithoutLosingAcknowledgedProposals() throws Exception {
    int groups = groups();
    RaftCluster c = startCluster(driverConfig(), groups);
    FaultNetwork net = c.network();
    SplittableRandom rnd = new SplittableRandom(SEED);
    Map<Long, Set<String>> acked = new ConcurrentHashMap<>();
    AtomicLong proposed = new AtomicLong();
    Map<String, LongAdder> outcomes = new ConcurrentSkipListMap<>();
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    int faultChanges = 0;
    for (int round = 0; System.nanoTime() < end; round++) {
      // A new fault every ~250 ms: a cut between two nodes or a node cut off from both others,
      // with or without message loss; or loss alone; or none.
      if (round % 8 == 0) {
        net.heal();
        long a = 1 + rnd.nextInt(3);
        switch (rnd.nextInt(3)) {
          case 0 -> net.cut(a, a % 3 + 1);
          case 1 -> net.isolate(a);
          default -> { }
        }
        if (rnd.nextBoolean()) {
          net.dropRate(0.3 * rnd.nextDouble());
        }
        faultChanges++;
      }
      for (int i = 0; i < 30; i++) {
        long g = 1 + rnd.nextInt(groups);
        // Any replica that believes it leads, a deposed one on the wrong side of a cut included.
        long leader = c.anyLeaderOf(g, rnd);
        if (leader == 0) {
          continue;
        }
        String v = "v" + proposed.incrementAndGet();
        c.driver(leader).propose(g, v.getBytes(java.nio.charset.StandardCharsets.UTF_8)).whenComplete((r, ex) -> {
          if (ex == null) {
            acked.computeIfAbsent(g, k -> ConcurrentHashMap.newKeySet()).add(v);
          }
          outcomes.computeIfAbsent(ex == null ? "applied" : ex.getClass().getSimpleName(), k -> new LongAdder())
              .increment();
        });
      }
      Thread.sleep(30); // pacing of the load generator, not a wait for a condition
    }
    String faultsSeen = net.toString();
    net.heal();
    long t0 = System.nanoTime();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> firstDivergentGroup(c, groups) == 0);
    } catch (ConditionTimeoutException e) {
      long g = firstDivergentGroup(c, groups);
      throw new AssertionError("seed " + SEED + ": group " + g + " did not converge:" + c.describe(g), e);
    }
    long convergedMs = millisSince(t0);
    int ackedCount = 0;
    for (long g = 1; g <= groups; g++) {
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
  void groupsLedByADeadNodeElectNewLeadersHibernatedOnesIncluded() throws Exception {
    int groups = groups();
    RaftCluster c = startCluster(driverConfig(), groups);
    DriverConfig cfg = c.driverConfig();
    // Every group on every node hibernates (a wake is counted only for a hibernated group)...
    try {
      await().atMost(Duration.ofSeconds(30)).until(() ->
          c.nodeIds().stream().allMatch(n -> sleeping(c.driver(n)) == groups && c.driver(n).awakeGroups() == 0));
    } catch (ConditionTimeoutException e) {
      c.nodeIds().forEach(n -> System.out.println("node " + n + " " + c.driver(n).counters()));
      throw e;
    }
    // ... and nothing drives them while they sleep.
    long roundsAsleep = rounds(c);
    await().during(Duration.ofMillis(5 * cfg.tickIntervalMs())).atMost(Duration.ofSeconds(5))
        .until(() -> rounds(c) == roundsAsleep);

    Map<Long, List<Long>> ledBy = new ConcurrentHashMap<>();
    for (long g = 1; g <= groups; g++) {
      ledBy.computeIfAbsent(c.leaderOf(g), k -> new ArrayList<>()).add(g);
    }
    long victim = c.nodeIds().stream().max((a, b) -> Integer.compare(
        ledBy.getOrDefault(a, List.of()).size(), ledBy.getOrDefault(b, List.of()).size())).orElseThrow();
    List<Long> orphans = ledBy.get(victim);
    Map<Long, Long> wakesBefore = new ConcurrentHashMap<>();
    c.nodeIds().stream().filter(n -> n != victim).forEach(n -> wakesBefore.put(n, c.driver(n).counters().wakes()));

    long t0 = System.nanoTime();
    c.kill(victim);
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
    } catch (ConditionTimeoutException e) {
      long g = orphans.stream().filter(x -> c.leaderOf(x) == 0).findFirst().orElse(0L);
      throw new AssertionError("group " + g + " has no new leader:" + c.describe(g), e);
    }
    List<Long> times = new ArrayList<>(electedMs.values());
    times.sort(null);
    long ms = times.get(times.size() - 1);
    long electionMs = cfg.electionTick() * cfg.tickIntervalMs();
    System.out.printf("node %d led %d of %d hibernated groups; after it died, new leaders: first %d ms, median %d ms,"
        + " last %d ms (node dead after %d ms, election timeout %d ms)%n", victim, orphans.size(), groups,
        times.get(0), times.get(times.size() / 2), ms, cfg.nodeDeadAfterMs(), electionMs);
    // Liveness notices the node within nodeDeadAfterMs; then an election within a few timeouts.
    assertThat(ms).isLessThan(cfg.nodeDeadAfterMs() + 4 * 2 * electionMs);
    for (long n : wakesBefore.keySet()) {
      assertThat(c.driver(n).counters().wakes() - wakesBefore.get(n))
          .as("node %d woke the hibernated groups of the dead node", n).isGreaterThanOrEqualTo(orphans.size());
    }
    List<CompletableFuture<Object>> acks = new ArrayList<>();
    for (long g : orphans) {
      acks.add(c.propose(g, "after"));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
  }

  @Test
  void followerCutOffBehindACompactionCatchesUpBySnapshot() throws Exception {
    int groups = 10;
    int proposals = 100;
    RaftCluster c = startCluster(driverConfig().withCompactLogAfterEntries(20), groups);
    // Every snapshot is "being built" the first three times the core asks: it must ask again.
    c.nodeIds().forEach(n -> c.machine(n).unavailableFirst = 3);
    long lagging = 3;
    c.network().isolate(lagging);
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
    proposeToEveryGroup(c, groups, proposals);
    c.network().heal();
    long t0 = System.nanoTime();
    awaitApplied(c, lagging, groups, proposals);
    long snapshots = c.driver(lagging).counters().snapshotsApplied();
    System.out.printf("node %d caught up on %d groups of %d entries in %d ms with %d snapshots%n", lagging, groups,
        proposals, millisSince(t0), snapshots);
    assertCaughtUpBySnapshots(c, lagging, groups, snapshots);
    for (long g = 1; g <= groups; g++) {
      long group = g;
      assertThat(c.nodeIds().stream().mapToInt(n -> c.machine(n).unavailableAnswers.getOrDefault(group, 0)).sum())
          .as("group %d: answered unavailable, then asked again", g).isGreaterThanOrEqualTo(3);
    }
  }

  @Test
  void restartedFollowerBehindACompactionCatchesUpBySnapshot() throws Exception {
    int groups = 10;
    int proposals = 100;
    RaftCluster c = startCluster(driverConfig().withCompactLogAfterEntries(20), groups);
    long lagging = 3;
    c.kill(lagging);
    await().atMost(Duration.ofSeconds(20)).until(() -> c.groupsWithLeader(groups) == groups);
    proposeToEveryGroup(c, groups, proposals);
    long t0 = System.nanoTime();
    c.restart(lagging);
    awaitApplied(c, lagging, groups, proposals);
    long snapshots = c.driver(lagging).counters().snapshotsApplied();
    System.out.printf("node %d restarted and caught up on %d groups of %d entries in %d ms with %d snapshots%n",
        lagging, groups, proposals, millisSince(t0), snapshots);
    assertCaughtUpBySnapshots(c, lagging, groups, snapshots);
  }

  private static void proposeToEveryGroup(RaftCluster c, int groups, int proposals) throws Exception {
    List<CompletableFuture<Object>> acks = new ArrayList<>();
    for (int i = 0; i < proposals; i++) {
      for (long g = 1; g <= groups; g++) {
        acks.add(c.propose(g, "e" + i));
      }
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
  }

  private static void awaitApplied(RaftCluster c, long node, int groups, int proposals) {
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        for (long g = 1; g <= groups; g++) {
          if (c.applied(node, g).size() != proposals) {
            return false;
          }
        }
        return true;
      });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("node " + node + " did not catch up:" + c.describe(1), e);
    }
  }

  private static void assertCaughtUpBySnapshots(RaftCluster c, long lagging, int groups, long snapshots) {
    for (long g = 1; g <= groups; g++) {
      assertThat(c.applied(lagging, g)).as("group %d", g).isEqualTo(c.applied(c.leaderOf(g), g));
    }
    assertThat(snapshots).as("the log was compacted past what node %d had", lagging).isGreaterThanOrEqualTo(groups);
    for (long g = 1; g <= groups; g++) {
      long group = g;
      assertThat(c.nodeIds().stream().mapToInt(n -> c.machine(n).snapshotsServed.getOrDefault(group, 0)).sum())
          .as("group %d: a snapshot was served", g).isPositive();
    }
  }

  /** Groups hibernating on a node: every wake ends one hibernation. */
  private static long sleeping(RaftDriver d) {
    DriverCounters k = d.counters();
    return k.hibernations() - k.wakes();
  }

  private static long rounds(RaftCluster c) {
    return c.nodeIds().stream().filter(c::isRunning).mapToLong(n -> c.driver(n).counters().rounds()).sum();
  }

  /** 0 if every group has a leader and identical applied lists on every node, else the first group that does not. */
  private static long firstDivergentGroup(RaftCluster c, int groups) {
    for (long g = 1; g <= groups; g++) {
      if (c.leaderOf(g) == 0) {
        return g;
      }
      List<String> first = c.applied(c.nodeIds().get(0), g);
      for (long node : c.nodeIds()) {
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
