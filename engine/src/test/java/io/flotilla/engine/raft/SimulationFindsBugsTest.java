package io.flotilla.engine.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The simulation's checker can fail: with a deliberate bug switched on in every node, seeded runs
 * report a violation naming the seed, and that seed replays to the same violation.
 */
class SimulationFindsBugsTest {
  private static final int MAX_SEEDS = 2000;

  @Test
  void grantingTwoVotesInOneTermIsCaught() {
    SimViolation v = firstViolation(sim -> sim.bugDoubleVote = true);
    assertThat(v.getMessage()).contains("seed " + v.seed);
    assertThat(v.getMessage()).containsAnyOf("two leaders", "log matching", "committed", "state machine",
        "leader completeness", "read safety");
    assertThat(replay(v.seed, sim -> sim.bugDoubleVote = true).getMessage()).isEqualTo(v.getMessage());
  }

  @Test
  void votingForAStaleLogIsCaught() {
    SimViolation v = firstViolation(sim -> sim.bugSkipElectionRestriction = true);
    assertThat(v.getMessage()).contains("seed " + v.seed);
    assertThat(replay(v.seed, sim -> sim.bugSkipElectionRestriction = true).getMessage()).isEqualTo(v.getMessage());
  }

  @Test
  void trustingALeaseAcrossAPauseIsCaught() {
    SimViolation v = firstViolation(sim -> sim.bugKeepLeaseAcrossPauses = true);
    assertThat(v.getMessage()).contains("read safety");
    assertThat(replay(v.seed, sim -> sim.bugKeepLeaseAcrossPauses = true).getMessage()).isEqualTo(v.getMessage());
  }

  private static SimViolation firstViolation(Consumer<Sim> bug) {
    for (long seed = 1; seed <= MAX_SEEDS; seed++) {
      SimViolation v = replay(seed, bug);
      if (v != null) {
        System.out.println("bug caught: " + v.getMessage());
        return v;
      }
    }
    throw new AssertionError("no violation found in " + MAX_SEEDS + " seeds with the bug on");
  }

  private static SimViolation replay(long seed, Consumer<Sim> bug) {
    Sim sim = new Sim(seed);
    sim.aggressive = true;
    bug.accept(sim);
    try {
      sim.run();
      return null;
    } catch (SimViolation v) {
      return v;
    }
  }
}
