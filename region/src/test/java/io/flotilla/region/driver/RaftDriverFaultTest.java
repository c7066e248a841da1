package io.flotilla.region.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drivers under faults: partitions, message loss, dead leader nodes, compaction. Randomized parts
 * take {@code -Dflotilla.seed} and print it.
 */
class RaftDriverFaultTest {
  @TempDir Path dir;

  private static final long SEED = Long.getLong("flotilla.seed", System.nanoTime());

  private static DriverConfig fast() {
    return DriverConfig.defaults().withTickIntervalMs(20).withPollerThreads(2).withNodeDeadAfterMs(300);
  }

  @Test
  void partitionsAndLossThenHealingConvergeWithoutLosingAcknowledgedProposals() throws Exception {
    int groups = 100;
    Random rnd = new Random(SEED);
    try (DriverCluster c = new DriverCluster(dir, 3, fast(), SEED)) {
      c.startGroups(groups);
      await().atMost(Duration.ofSeconds(30)).until(() -> leaders(c, groups) == groups);
      Map<Long, Set<String>> acked = new ConcurrentHashMap<>();
      AtomicLong seq = new AtomicLong();
      long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
      int round = 0;
      while (System.nanoTime() < end) {
        // A new fault every ~300 ms: a cut between two nodes, or loss, or both, or none.
        if (round++ % 10 == 0) {
          c.bus.heal();
          if (rnd.nextBoolean()) {
            long a = 1 + rnd.nextInt(3);
            long b = a % 3 + 1;
            c.bus.cut(a, b);
          }
          if (rnd.nextBoolean()) {
            c.bus.dropRate(0.2 * rnd.nextDouble());
          }
        }
        for (int i = 0; i < 20; i++) {
          long g = 1 + rnd.nextInt(groups);
          long leader = c.leaderOf(g);
          if (leader == 0) {
            continue;
          }
          String v = "v" + seq.incrementAndGet();
          c.drivers.get(leader).propose(g, v.getBytes(StandardCharsets.UTF_8)).whenComplete((r, ex) -> {
            if (ex == null) {
              acked.computeIfAbsent(g, k -> ConcurrentHashMap.newKeySet()).add(v);
            }
          });
        }
        Thread.sleep(30); // pacing of the load generator, not a wait for a condition
      }
      c.bus.heal();
      await().atMost(Duration.ofSeconds(60)).until(() -> converged(c, groups));
      int ackedCount = 0;
      for (long g = 1; g <= groups; g++) {
        List<String> applied = strings(c.machines.get(1L).applied(g));
        assertThat(new HashSet<>(applied)).as("seed %d group %d: no duplicates", SEED, g).hasSize(applied.size());
        Set<String> a = acked.getOrDefault(g, Set.of());
        assertThat(applied).as("seed %d group %d: every acknowledged proposal", SEED, g).containsAll(a);
        ackedCount += a.size();
      }
      assertThat(ackedCount).as("seed %d: proposals were acknowledged during the faults", SEED).isGreaterThan(100);
    }
  }

  @Test
  void groupsLedByADeadNodeElectNewLeadersHibernatedOnesIncluded() throws Exception {
    int groups = 300;
    DriverConfig cfg = fast();
    try (DriverCluster c = new DriverCluster(dir, 3, cfg, SEED)) {
      c.startGroups(groups);
      await().atMost(Duration.ofSeconds(30)).until(() -> leaders(c, groups) == groups);
      // Let the idle groups hibernate on every node.
      try {
        await().atMost(Duration.ofSeconds(10)).until(() ->
            c.drivers.values().stream().allMatch(d -> d.counters().hibernations() >= groups));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        c.drivers.values().forEach(d -> System.out.println("node " + d.nodeId() + " " + d.counters()));
        for (long g = 1; g <= 5; g++) {
          for (RaftDriver d : c.drivers.values()) {
            System.out.println(d.describe(g));
          }
        }
        throw e;
      }
      // Hibernated groups leave the ticker's set, and nothing drives them while they sleep.
      await().atMost(Duration.ofSeconds(10)).until(() ->
          c.drivers.values().stream().allMatch(d -> d.awakeGroups() == 0));
      long roundsAsleep = c.drivers.values().stream().mapToLong(d -> d.counters().rounds()).sum();
      await().during(Duration.ofMillis(5 * cfg.tickIntervalMs())).atMost(Duration.ofSeconds(5)).until(() ->
          c.drivers.values().stream().mapToLong(d -> d.counters().rounds()).sum() == roundsAsleep);
      long victim = 1;
      List<Long> ledByVictim = new ArrayList<>();
      for (long g = 1; g <= groups; g++) {
        if (c.leaderOf(g) == victim) {
          ledByVictim.add(g);
        }
      }
      assertThat(ledByVictim).isNotEmpty();
      long t0 = System.nanoTime();
      c.stop(victim);
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> ledByVictim.stream().allMatch(g -> c.leaderOf(g) != 0));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        for (long g : ledByVictim) {
          if (c.leaderOf(g) == 0) {
            c.drivers.values().forEach(d -> System.out.println(d.describe(g)));
          }
        }
        throw e;
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      long electionMs = cfg.electionTick() * cfg.tickIntervalMs();
      System.out.printf("%d groups led by the dead node re-elected in %d ms (election timeout %d ms, node dead after %d ms)%n",
          ledByVictim.size(), ms, electionMs, cfg.nodeDeadAfterMs());
      assertThat(ms).isLessThan(cfg.nodeDeadAfterMs() + 5 * 2 * electionMs);
      for (long g : ledByVictim) {
        long leader = c.leaderOf(g);
        assertThat(c.drivers.get(leader).propose(g, "after".getBytes(StandardCharsets.UTF_8)))
            .succeedsWithin(Duration.ofSeconds(10));
      }
    }
  }

  @Test
  void followerBehindACompactionCatchesUpBySnapshot() throws Exception {
    DriverConfig cfg = fast().withCompactLogAfterEntries(20);
    try (DriverCluster c = new DriverCluster(dir, 3, cfg, SEED)) {
      c.startGroups(1);
      await().atMost(Duration.ofSeconds(20)).until(() -> c.leaderOf(1) != 0);
      long leader = c.leaderOf(1);
      long lagging = leader % 3 + 1;
      c.stop(lagging);
      for (int i = 0; i < 200; i++) {
        c.drivers.get(c.leaderOf(1)).propose(1, ("e" + i).getBytes(StandardCharsets.UTF_8))
            .get(10, java.util.concurrent.TimeUnit.SECONDS);
      }
      c.start(lagging);
      await().atMost(Duration.ofSeconds(30)).until(() -> c.machines.get(lagging).applied(1).size() == 200);
      assertThat(strings(c.machines.get(lagging).applied(1))).isEqualTo(strings(c.machines.get(leader).applied(1)));
      assertThat(c.drivers.get(lagging).counters().snapshotsApplied()).isPositive();
    }
  }

  private static boolean converged(DriverCluster c, int groups) {
    for (long g = 1; g <= groups; g++) {
      if (c.leaderOf(g) == 0) {
        return false;
      }
      List<String> first = null;
      for (LogStateMachine m : c.machines.values()) {
        List<String> applied = strings(m.applied(g));
        if (first == null) {
          first = applied;
        } else if (!first.equals(applied)) {
          return false;
        }
      }
    }
    return true;
  }

  private static List<String> strings(List<byte[]> values) {
    List<String> out = new ArrayList<>();
    for (byte[] v : values) {
      out.add(new String(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  private static int leaders(DriverCluster c, int groups) {
    int n = 0;
    for (long g = 1; g <= groups; g++) {
      if (c.leaderOf(g) != 0) {
        n++;
      }
    }
    return n;
  }
}
