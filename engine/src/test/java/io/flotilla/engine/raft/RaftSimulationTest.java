package io.flotilla.engine.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Seeded whole-group simulations checked by {@link SimChecker}. The default run executes
 * {@code flotilla.sim.runs} seeds (2,000; the {@code campaign} profile runs 100,000); a failure
 * prints its seed, and {@link #replaysOneSeed} replays one with {@code -Dflotilla.seed=N}.
 */
class RaftSimulationTest {
  @Test
  void seededRunsKeepEveryInvariant() {
    int runs = Integer.getInteger("flotilla.sim.runs", 2000);
    long base = Long.getLong("flotilla.sim.baseSeed", 1L);
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    AtomicLongArray totals = new AtomicLongArray(Sim.Stat.values().length);
    long start = System.nanoTime();
    LongStream.range(base, base + runs).parallel().forEach(seed -> {
      try {
        Sim sim = new Sim(seed);
        try {
          sim.run();
        } finally {
          sim.stats[Sim.Stat.LEADERS.ordinal()] = sim.checker.leadersElected;
          for (int i = 0; i < sim.stats.length; i++) {
            totals.addAndGet(i, sim.stats[i]);
          }
        }
      } catch (Throwable t) {
        failures.add(t);
      }
    });
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("raft simulation: %d seeded runs (seeds %d..%d) in %d ms, %d failed%n",
        runs, base, base + runs - 1, ms, failures.size());
    StringBuilder sb = new StringBuilder("raft simulation totals:");
    for (Sim.Stat st : Sim.Stat.values()) {
      sb.append(' ').append(st.name().toLowerCase()).append('=').append(totals.get(st.ordinal()));
    }
    System.out.println(sb);
    // The campaign must have exercised what it claims to check.
    for (Sim.Stat st : Sim.Stat.values()) {
      assertThat(totals.get(st.ordinal())).as("runs that exercised %s", st).isPositive();
    }
    List<String> seeds = failures.stream().map(RaftSimulationTest::describe).limit(10).toList();
    assertThat(failures).as("failing runs (first 10): %s", seeds).isEmpty();
  }

  @Test
  void replaysOneSeed() {
    long seed = Long.getLong("flotilla.seed", 42L);
    Sim sim = new Sim(seed);
    sim.run();
    assertThat(sim.leader()).as("a leader after healing, %s", sim).isNotNull();
  }

  private static String describe(Throwable t) {
    if (t instanceof SimViolation v) {
      return v.getMessage();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
