package io.flotilla.engine.raft.confchange;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.ConfChangeSingle;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.tracker.Progress;
import io.flotilla.engine.raft.tracker.ProgressTracker;
import io.flotilla.engine.raft.tracker.TrackerConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class RestoreTest {
  private static final int RUNS = 1000;

  @Test
  void restoreRoundTripsConfState() {
    long seed = Long.getLong("flotilla.seed", ThreadLocalRandom.current().nextLong());
    Random rnd = new Random(seed);
    for (int run = 0; run < RUNS; run++) {
      ConfState cs = randomConfState(rnd);
      String ctx = "run " + run + " of seed " + seed + " (replay with -Dflotilla.seed=" + seed
          + "), " + cs;
      long lastIndex = rnd.nextInt(20);
      ProgressTracker fresh = new ProgressTracker(1 + rnd.nextInt(8));
      Changer.Result r = Restore.restore(fresh, lastIndex, cs);
      fresh.reset(r.config(), r.progress());

      assertThat(fresh.confState()).as(ctx).isEqualTo(sorted(cs));
      TreeSet<Long> members = new TreeSet<>(cs.voters());
      members.addAll(cs.votersOutgoing());
      members.addAll(cs.learners());
      assertThat(r.progress().keySet()).as(ctx).containsExactlyElementsOf(members);
      for (long id : members) {
        Progress pr = r.progress().get(id);
        assertThat(pr.isLearner()).as(ctx + ": learner flag of " + id)
            .isEqualTo(cs.learners().contains(id));
        assertThat(pr.next()).as(ctx + ": next of " + id).isEqualTo(Math.max(lastIndex, 1));
        assertThat(pr.match()).as(ctx).isZero();
        assertThat(pr.inflights().capacity()).as(ctx).isEqualTo(fresh.maxInflight());
      }
    }
  }

  /**
   * A valid ConfState (after etcd's restore test): 1-5 voters, 0-4 learners and, when joint, an
   * outgoing half made of some retained voters plus 0-2 removed ones, some of which are being
   * demoted to learners. Lists come in random order.
   */
  private static ConfState randomConfState(Random rnd) {
    int nVoters = 1 + rnd.nextInt(5);
    int nLearners = rnd.nextInt(5);
    int nRemoved = rnd.nextInt(3);
    List<Long> ids = new ArrayList<>();
    for (long id = 1; id <= 2L * (nVoters + nLearners + nRemoved); id++) {
      ids.add(id);
    }
    Collections.shuffle(ids, rnd);
    List<Long> voters = new ArrayList<>(ids.subList(0, nVoters));
    List<Long> learners = new ArrayList<>(ids.subList(nVoters, nVoters + nLearners));
    List<Long> removed = ids.subList(nVoters + nLearners, nVoters + nLearners + nRemoved);
    int nRetained = rnd.nextInt(nVoters + 1);
    List<Long> outgoing = new ArrayList<>(voters.subList(0, nRetained));
    outgoing.addAll(removed);
    List<Long> learnersNext = new ArrayList<>(removed.subList(0, rnd.nextInt(nRemoved + 1)));
    for (List<Long> l : List.of(voters, learners, outgoing, learnersNext)) {
      Collections.shuffle(l, rnd);
    }
    boolean autoLeave = !outgoing.isEmpty() && rnd.nextBoolean();
    return new ConfState(voters, learners, outgoing, learnersNext, autoLeave);
  }

  private static ConfState sorted(ConfState cs) {
    return new ConfState(new ArrayList<>(new TreeSet<>(cs.voters())),
        new ArrayList<>(new TreeSet<>(cs.learners())),
        new ArrayList<>(new TreeSet<>(cs.votersOutgoing())),
        new ArrayList<>(new TreeSet<>(cs.learnersNext())), cs.autoLeave());
  }

  @Test
  void restoreOfEmptyConfStateIsEmptyConfig() {
    Changer.Result r = Restore.restore(new ProgressTracker(4), 7, ConfState.EMPTY);
    assertThat(r.config()).isEqualTo(TrackerConfig.EMPTY);
    assertThat(r.progress()).isEmpty();
  }

  @Test
  void restoreRebuildsAJointConfigWithStagedLearners() {
    ConfState cs = new ConfState(
        List.of(1L, 2L, 3L), List.of(5L), List.of(1L, 2L, 4L, 6L), List.of(4L), true);
    ProgressTracker t = new ProgressTracker(4);
    Changer.Result r = Restore.restore(t, 3, cs);
    assertThat(r.config())
        .hasToString("voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4) autoleave");
    assertThat(r.progress().keySet()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(r.progress().get(4L).isLearner()).as("demoted only when leaving joint").isFalse();
    assertThat(r.progress().get(5L).isLearner()).isTrue();
    assertThat(r.progress().get(1L).recentActive()).isTrue();
    assertThat(t.progress()).as("the tracker given is not modified").isEmpty();
    assertThat(t.config()).isEqualTo(TrackerConfig.EMPTY);
  }

  @Test
  void restoreRefusesATrackerThatIsNotEmpty() {
    ProgressTracker t = new ProgressTracker(4);
    Changer.Result one = new Changer(t, 0).simple(
        List.of(new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, 1)));
    t.reset(one.config(), one.progress());
    assertThatThrownBy(() -> Restore.restore(t, 0, ConfState.ofVoters(2L)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("empty tracker");
  }

  @Test
  void restoreRefusesAConfStateWithoutVoters() {
    ConfState learnersOnly = new ConfState(List.of(), List.of(1L), List.of(), List.of(), false);
    assertThatThrownBy(() -> Restore.restore(new ProgressTracker(4), 0, learnersOnly))
        .isInstanceOf(InvalidConfChangeException.class).hasMessageContaining("removed all voters");
  }
}
