package io.flotilla.engine.raft.tracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.quorum.JointConfig;
import io.flotilla.engine.raft.quorum.MajorityConfig;
import io.flotilla.engine.raft.quorum.VoteResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ProgressTrackerTest {

  /** Voters (1 2 3)&&(1 2 4), learner 5, 4 being demoted to learner. */
  private static ProgressTracker jointTracker() {
    ProgressTracker t = new ProgressTracker(8);
    TrackerConfig cfg = new TrackerConfig(
        new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.of(1, 2, 4)),
        Set.of(5L), Set.of(4L), true);
    TreeMap<Long, Progress> progress = new TreeMap<>();
    for (long id = 1; id <= 5; id++) {
      progress.put(id, new Progress(0, 1, 8, id == 5));
    }
    t.reset(cfg, progress);
    return t;
  }

  private static ProgressTracker simpleTracker(long... voters) {
    ProgressTracker t = new ProgressTracker(8);
    TreeMap<Long, Progress> progress = new TreeMap<>();
    for (long id : voters) {
      progress.put(id, new Progress(0, 1, 8, false));
    }
    t.reset(new TrackerConfig(new JointConfig(MajorityConfig.of(voters), MajorityConfig.EMPTY),
        Set.of(), Set.of(), false), progress);
    return t;
  }

  @Test
  void newTrackerIsEmpty() {
    ProgressTracker t = new ProgressTracker(16);
    assertThat(t.maxInflight()).isEqualTo(16);
    assertThat(t.config()).isEqualTo(TrackerConfig.EMPTY);
    assertThat(t.progress()).isEmpty();
    assertThat(t.confState()).isEqualTo(ConfState.EMPTY);
    assertThat(t.isSingleton()).isFalse();
  }

  @Test
  void committedIsTheQuorumMatchOfBothHalves() {
    ProgressTracker t = jointTracker();
    t.get(1).maybeUpdate(10);
    t.get(3).maybeUpdate(9);
    t.get(5).maybeUpdate(100); // learner: does not count
    assertThat(t.committed()).as("outgoing (1 2 4) has only 1 at 10").isZero();
    t.get(4).maybeUpdate(7);
    assertThat(t.committed()).isEqualTo(7);
  }

  @Test
  void quorumActiveIgnoresLearnersAndNeedsBothHalves() {
    ProgressTracker t = jointTracker();
    t.get(5).setRecentActive(true);
    t.get(1).setRecentActive(true);
    t.get(3).setRecentActive(true);
    assertThat(t.quorumActive()).isFalse();
    t.get(4).setRecentActive(true);
    assertThat(t.quorumActive()).isTrue();
  }

  @Test
  void confStateListsEachSetSorted() {
    assertThat(jointTracker().confState()).isEqualTo(
        new ConfState(List.of(1L, 2L, 3L), List.of(5L), List.of(1L, 2L, 4L), List.of(4L), true));
  }

  @Test
  void voterAndLearnerNodesAreSortedAndLearnerNodesIncludeLearnersNext() {
    ProgressTracker t = jointTracker();
    assertThat(t.voterNodes()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(t.learnerNodes()).containsExactly(4L, 5L);
  }

  @Test
  void singletonIsOneVoterOutsideJoint() {
    assertThat(simpleTracker(1).isSingleton()).isTrue();
    assertThat(simpleTracker(1, 2).isSingleton()).isFalse();
    assertThat(jointTracker().isSingleton()).isFalse();
  }

  @Test
  void visitIsInAscendingIdOrder() {
    ProgressTracker t = simpleTracker(9, 3, 7, 1);
    List<Long> seen = new ArrayList<>();
    t.visit((id, pr) -> seen.add(id));
    assertThat(seen).containsExactly(1L, 3L, 7L, 9L);
    assertThat(t.progress().keySet()).containsExactly(1L, 3L, 7L, 9L);
  }

  @Test
  void progressMapIsReadOnly() {
    ProgressTracker t = simpleTracker(1);
    assertThatThrownBy(() -> t.progress().remove(1L))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(t.get(2)).isNull();
  }

  @Test
  void resetRefusesAMemberWithoutProgress() {
    ProgressTracker t = new ProgressTracker(8);
    TrackerConfig cfg = new TrackerConfig(
        new JointConfig(MajorityConfig.of(1, 2), MajorityConfig.EMPTY), Set.of(), Set.of(), false);
    assertThatThrownBy(() -> t.reset(cfg, Map.of(1L, new Progress(0, 1, 8, false))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("member 2");
    assertThat(t.config()).isEqualTo(TrackerConfig.EMPTY);
  }

  @Test
  void onlyTheFirstVoteOfANodeCounts() {
    ProgressTracker t = simpleTracker(1, 2, 3);
    t.recordVote(1, true);
    t.recordVote(2, false);
    t.recordVote(2, true);
    assertThat(t.tallyVotes())
        .isEqualTo(new ProgressTracker.TallyResult(1, 1, VoteResult.PENDING));
    t.recordVote(3, true);
    assertThat(t.tallyVotes()).isEqualTo(new ProgressTracker.TallyResult(2, 1, VoteResult.WON));
  }

  @Test
  void tallyCountsOnlyVotersAndResetVotesForgetsThem() {
    ProgressTracker t = jointTracker();
    t.recordVote(5, true); // learner
    t.recordVote(9, true); // stranger
    t.recordVote(1, true);
    t.recordVote(3, true);
    assertThat(t.tallyVotes())
        .isEqualTo(new ProgressTracker.TallyResult(2, 0, VoteResult.PENDING));
    t.recordVote(4, false);
    t.recordVote(2, false);
    assertThat(t.tallyVotes()).isEqualTo(new ProgressTracker.TallyResult(2, 2, VoteResult.LOST));
    t.resetVotes();
    assertThat(t.tallyVotes()).isEqualTo(new ProgressTracker.TallyResult(0, 0, VoteResult.PENDING));
  }

  @Test
  void trackerConfigRefusesLearnerThatIsAVoter() {
    JointConfig voters = new JointConfig(MajorityConfig.of(1, 2), MajorityConfig.EMPTY);
    assertThatThrownBy(() -> new TrackerConfig(voters, Set.of(2L), Set.of(), false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("learner 2");
    assertThatThrownBy(() -> new TrackerConfig(voters, Set.of(), Set.of(1L), false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("learnerNext 1");
  }

  @Test
  void trackerConfigSetsAreSortedAndReadOnly() {
    TrackerConfig c = new TrackerConfig(JointConfig.EMPTY, Set.of(9L, 3L, 5L), Set.of(), false);
    assertThat(c.learners()).containsExactly(3L, 5L, 9L);
    assertThatThrownBy(() -> c.learners().add(1L))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(jointTracker().config())
        .hasToString("voters=(1 2 3)&&(1 2 4) learners=(5) learners_next=(4) autoleave");
  }
}
