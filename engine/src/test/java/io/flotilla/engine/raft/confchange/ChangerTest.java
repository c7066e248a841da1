package io.flotilla.engine.raft.confchange;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.ConfChangeSingle;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.RaftException;
import io.flotilla.engine.raft.quorum.JointConfig;
import io.flotilla.engine.raft.quorum.MajorityConfig;
import io.flotilla.engine.raft.tracker.Progress;
import io.flotilla.engine.raft.tracker.ProgressTracker;
import io.flotilla.engine.raft.tracker.TrackerConfig;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChangerTest {
  private static final long LAST_INDEX = 10;

  private final ProgressTracker tracker = new ProgressTracker(4);

  private static ConfChangeSingle add(long id) {
    return new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, id);
  }

  private static ConfChangeSingle learner(long id) {
    return new ConfChangeSingle(ConfChangeSingle.Type.ADD_LEARNER, id);
  }

  private static ConfChangeSingle remove(long id) {
    return new ConfChangeSingle(ConfChangeSingle.Type.REMOVE_NODE, id);
  }

  private Changer changer() {
    return new Changer(tracker, LAST_INDEX);
  }

  /** Applies a result to the tracker, as the Raft core does once a change is applied. */
  private ProgressTracker install(Changer.Result r) {
    tracker.reset(r.config(), r.progress());
    return tracker;
  }

  /** Brings the tracker to voters {@code ids} through single-voter simple changes. */
  private void voters(long... ids) {
    for (long id : ids) {
      install(changer().simple(List.of(add(id))));
    }
  }

  @Test
  void newMemberIsProbedFromLastIndexAndCountsAsActive() {
    Progress pr = install(new Changer(tracker, LAST_INDEX).simple(List.of(add(1)))).get(1);
    assertThat(pr.match()).isZero();
    assertThat(pr.next()).isEqualTo(LAST_INDEX);
    assertThat(pr.recentActive()).isTrue();
    assertThat(pr.isLearner()).isFalse();
    assertThat(pr.inflights().capacity()).isEqualTo(4);
    Changer.Result empty = new Changer(new ProgressTracker(4), 0).simple(List.of(add(1)));
    assertThat(empty.progress().get(1L).next()).as("at least 1 on an empty log").isEqualTo(1);
  }

  @Test
  void simpleChangeAddsOneVoterAtATime() {
    voters(1, 2, 3);
    assertThat(tracker.confState()).isEqualTo(ConfState.ofVoters(1L, 2L, 3L));
    assertThat(tracker.progress().keySet()).containsExactly(1L, 2L, 3L);
  }

  @Test
  void simpleChangeRefusesTwoVoterChanges() {
    voters(1);
    assertThatThrownBy(() -> changer().simple(List.of(add(2), add(3))))
        .isInstanceOf(InvalidConfChangeException.class)
        .hasMessageContaining("more than one voter changed without entering joint config")
        .hasMessageContaining("[2, 3]");
    voters(2, 3);
    assertThatThrownBy(() -> changer().simple(List.of(remove(1), add(4))))
        .isInstanceOf(InvalidConfChangeException.class).hasMessageContaining("[1, 4]");
    assertThat(tracker.confState()).as("tracker untouched")
        .isEqualTo(ConfState.ofVoters(1L, 2L, 3L));
  }

  @Test
  void simpleChangeMayAddLearnersAlongsideOneVoter() {
    voters(1);
    TrackerConfig cfg = changer().simple(List.of(add(2), learner(3), learner(4))).config();
    assertThat(cfg.voters().incoming().ids()).containsExactly(1L, 2L);
    assertThat(cfg.learners()).containsExactly(3L, 4L);
  }

  @Test
  void simpleChangeRefusesJointConfig() {
    voters(1, 2);
    install(changer().enterJoint(false, List.of(add(3))));
    assertThatThrownBy(() -> changer().simple(List.of(add(4))))
        .isInstanceOf(InvalidConfChangeException.class)
        .hasMessageContaining("can't apply simple config change in joint config")
        .hasMessageContaining("(1 2 3)&&(1 2)");
  }

  @Test
  void removingEveryVoterIsRefused() {
    voters(1);
    assertThatThrownBy(() -> changer().simple(List.of(remove(1))))
        .isInstanceOf(InvalidConfChangeException.class).isInstanceOf(RaftException.class)
        .hasMessageContaining("removed all voters");
    assertThatThrownBy(() -> changer().simple(List.of(learner(1))))
        .as("demoting the last voter").hasMessageContaining("removed all voters");
    assertThatThrownBy(() -> new Changer(new ProgressTracker(4), 0).simple(List.of(learner(1))))
        .as("a learner-only config").hasMessageContaining("removed all voters");
  }

  @Test
  void changeOfNodeZeroIsIgnored() {
    voters(1);
    Changer.Result r = changer().simple(List.of(add(0), remove(0), learner(0)));
    assertThat(r.config()).isEqualTo(tracker.config());
    assertThat(r.progress().keySet()).containsExactly(1L);
  }

  @Test
  void addingAVoterPromotesALearnerKeepingItsProgress() {
    voters(1);
    install(changer().simple(List.of(learner(2))));
    tracker.get(2).maybeUpdate(7);
    install(changer().simple(List.of(add(2))));
    assertThat(tracker.config().voters().incoming().ids()).containsExactly(1L, 2L);
    assertThat(tracker.config().learners()).isEmpty();
    assertThat(tracker.get(2).isLearner()).isFalse();
    assertThat(tracker.get(2).match()).isEqualTo(7);
  }

  @Test
  void simpleChangeDemotesAVoterToLearner() {
    voters(1, 2);
    install(changer().simple(List.of(learner(2))));
    assertThat(tracker.confState())
        .isEqualTo(new ConfState(List.of(1L), List.of(2L), List.of(), List.of(), false));
    assertThat(tracker.get(2).isLearner()).isTrue();
    Changer.Result again = changer().simple(List.of(learner(2)));
    assertThat(again.config()).as("already a learner: no-op").isEqualTo(tracker.config());
  }

  @Test
  void changerNeverMutatesTheTracker() {
    voters(1, 2, 3);
    TrackerConfig before = tracker.config();
    Progress p1 = tracker.get(1);
    p1.maybeUpdate(5);
    Changer.Result r = changer().enterJoint(true, List.of(learner(1), remove(2), add(4)));
    assertThat(tracker.config()).isSameAs(before);
    assertThat(tracker.get(1)).isSameAs(p1);
    assertThat(p1.isLearner()).isFalse();
    assertThat(tracker.get(2)).isNotNull();
    assertThat(tracker.get(4)).isNull();
    assertThat(r.progress().get(1L)).isNotSameAs(p1);
    assertThat(r.progress().get(1L).match()).as("copied, not reset").isEqualTo(5);
  }

  @Test
  void enterJointCopiesVotersToOutgoingAndAppliesChangesToIncoming() {
    voters(1, 2, 3);
    install(changer().enterJoint(true, List.of(add(4), add(5), remove(3))));
    assertThat(tracker.config().voters()).hasToString("(1 2 4 5)&&(1 2 3)");
    assertThat(tracker.config().autoLeave()).isTrue();
    assertThat(tracker.progress().keySet()).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  @Test
  void enterJointRefusesJointOrZeroVoterConfig() {
    assertThatThrownBy(() -> changer().enterJoint(false, List.of(add(1))))
        .isInstanceOf(InvalidConfChangeException.class)
        .hasMessageContaining("can't make a zero-voter config joint");
    voters(1);
    install(changer().enterJoint(false, List.of(add(2))));
    assertThatThrownBy(() -> changer().enterJoint(false, List.of(add(3))))
        .isInstanceOf(InvalidConfChangeException.class).hasMessageContaining("already joint");
  }

  @Test
  void enterJointThenLeaveJointDemotesToLearner() {
    voters(1, 2, 3);
    install(changer().enterJoint(false, List.of(learner(3), add(4))));
    assertThat(tracker.confState()).isEqualTo(new ConfState(
        List.of(1L, 2L, 4L), List.of(), List.of(1L, 2L, 3L), List.of(3L), false));
    assertThat(tracker.get(3).isLearner()).as("still votes in the outgoing half").isFalse();

    install(changer().leaveJoint());
    assertThat(tracker.confState()).isEqualTo(
        new ConfState(List.of(1L, 2L, 4L), List.of(3L), List.of(), List.of(), false));
    assertThat(tracker.get(3).isLearner()).isTrue();
  }

  @Test
  void newLearnerDuringJointIsALearnerAtOnce() {
    voters(1, 2);
    install(changer().enterJoint(true, List.of(learner(9), add(3))));
    assertThat(tracker.config().learners()).containsExactly(9L);
    assertThat(tracker.config().learnersNext()).isEmpty();
    assertThat(tracker.get(9).isLearner()).isTrue();
  }

  @Test
  void removingLeaderKeepsProgressWhileStillOutgoingVoter() {
    voters(1, 2, 3);
    tracker.get(1).maybeUpdate(8);
    install(changer().enterJoint(false, List.of(remove(1))));
    assertThat(tracker.config().voters()).hasToString("(2 3)&&(1 2 3)");
    assertThat(tracker.get(1)).as("1 still votes in the outgoing half").isNotNull();
    assertThat(tracker.get(1).match()).isEqualTo(8);

    install(changer().leaveJoint());
    assertThat(tracker.get(1)).isNull();
    assertThat(tracker.progress().keySet()).containsExactly(2L, 3L);
  }

  @Test
  void removingAStagedLearnerDropsItWhenLeavingJoint() {
    voters(1, 2, 3);
    install(changer().enterJoint(false, List.of(learner(3), remove(3))));
    assertThat(tracker.config().learnersNext()).isEmpty();
    assertThat(tracker.get(3)).as("still an outgoing voter").isNotNull();
    install(changer().leaveJoint());
    assertThat(tracker.get(3)).isNull();
    assertThat(tracker.config().learners()).isEmpty();
  }

  @Test
  void leaveJointClearsAutoLeaveAndRefusesNonJoint() {
    voters(1);
    assertThatThrownBy(() -> changer().leaveJoint())
        .isInstanceOf(InvalidConfChangeException.class).hasMessageContaining("non-joint");
    install(changer().enterJoint(true, List.of(add(2))));
    TrackerConfig left = changer().leaveJoint().config();
    assertThat(left.autoLeave()).isFalse();
    assertThat(left.voters().isJoint()).isFalse();
    assertThat(left.voters().incoming().ids()).containsExactly(1L, 2L);
  }

  @Test
  void changeWithoutTypeIsRefused() {
    voters(1);
    assertThatThrownBy(() -> changer().simple(List.of(new ConfChangeSingle(null, 2))))
        .isInstanceOf(InvalidConfChangeException.class).hasMessageContaining("without a type");
  }

  @Test
  void changerRefusesATrackerThatBreaksInvariants() {
    TrackerConfig cfg = new TrackerConfig(
        new JointConfig(MajorityConfig.of(1), MajorityConfig.EMPTY), Set.of(), Set.of(), false);
    tracker.reset(cfg, Map.of(1L, new Progress(0, 1, 4, true)));
    assertThatThrownBy(() -> changer().simple(List.of(add(2))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("1 is a voter but its progress is marked learner");
  }
}
