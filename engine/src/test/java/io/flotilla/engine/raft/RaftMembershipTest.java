package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.appliedData;
import static io.flotilla.engine.raft.RaftFixtures.terms;
import static io.flotilla.engine.raft.RaftFixtures.tickUntilLeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.ConfChange.Transition;
import io.flotilla.engine.raft.ConfChangeSingle.Type;
import io.flotilla.engine.raft.tracker.Progress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Membership changes: learners, joint consensus (Raft thesis §4.3), one change at a time. */
class RaftMembershipTest {

  /** Voters 1-3 led by 1, plus node 4 added as a learner (its storage knows the initial voters). */
  private static Network withLearner4() {
    Network net = Network.of(3);
    net.campaign(1);
    net.add(4, MemoryStorage.withVoters(1L, 2L, 3L));
    net.node(1).proposeConfChange(ConfChange.addLearner(4));
    net.stabilize();
    return net;
  }

  private static ProposalDroppedException.Reason refusal(Runnable r) {
    try {
      r.run();
    } catch (ProposalDroppedException e) {
      return e.reason();
    }
    throw new AssertionError("expected a ProposalDroppedException");
  }

  // Thesis §4.2.1: a learner gets the log but never counts, campaigns or is asked to vote.
  @Test
  void learnerReceivesTheLogButNeitherVotesNorCountsForCommit() {
    Network net = withLearner4();
    for (long id = 1; id <= 4; id++) {
      ConfState cs = net.raft(id).trk.confState();
      assertThat(cs.voters()).as("voters at %d", id).containsExactly(1L, 2L, 3L);
      assertThat(cs.learners()).as("learners at %d", id).containsExactly(4L);
    }
    assertThat(net.raft(4).isLearner).isTrue();
    assertThat(terms(net.storages.get(4L))).isEqualTo(terms(net.storages.get(1L)));
    Progress p4 = net.node(1).status().progress().get(4L);
    assertThat(p4.isLearner()).isTrue();
    assertThat(p4.match()).isEqualTo(net.raft(1).raftLog.lastIndex());

    // Not counted: the only acknowledgement the leader gets is the learner's.
    net.cut(1, 2);
    net.cut(1, 3);
    long committed = net.raft(1).raftLog.committed;
    net.propose(1, "x");
    assertThat(net.raft(1).trk.get(4).match()).isEqualTo(net.raft(1).raftLog.lastIndex());
    assertThat(net.raft(1).raftLog.committed).isEqualTo(committed);
    net.recover();
    net.tick(1, 1);
    net.stabilize();
    assertThat(net.raft(1).raftLog.committed).isEqualTo(net.raft(1).raftLog.lastIndex());
    assertThat(appliedData(net, 4)).containsExactly("x");

    // Never campaigns, however long it hears nothing.
    long term = net.raft(4).term;
    net.isolate(1);
    net.tick(4, 100);
    net.stabilize();
    assertThat(net.raft(4).state).isEqualTo(StateType.FOLLOWER);
    assertThat(net.raft(4).term).isEqualTo(term);
    assertThat(net.delivered).noneMatch(m -> m.from() == 4
        && (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE));

    // Never asked.
    net.recover();
    net.campaign(2);
    assertThat(net.leader()).isEqualTo(2);
    assertThat(net.delivered.stream().filter(m -> m.type() == MessageType.VOTE && m.from() == 2)
        .map(Message::to).toList()).containsExactlyInAnyOrder(1L, 3L);
  }

  // Thesis §4.2.1: a promoted learner is a voter: it counts for commit and may lead.
  @Test
  void promotedLearnerCountsForCommitAndCanLead() {
    Network net = withLearner4();

    net.node(1).proposeConfChange(ConfChange.addNode(4));
    net.stabilize();

    for (long id = 1; id <= 4; id++) {
      ConfState cs = net.raft(id).trk.confState();
      assertThat(cs.voters()).as("voters at %d", id).containsExactly(1L, 2L, 3L, 4L);
      assertThat(cs.learners()).isEmpty();
    }
    assertThat(net.raft(4).isLearner).isFalse();
    assertThat(net.raft(4).promotable()).isTrue();

    // {1, 2, 4} is a majority of four only if 4 counts.
    net.cut(1, 3);
    net.propose(1, "y");
    assertThat(net.raft(1).raftLog.committed).isEqualTo(net.raft(1).raftLog.lastIndex());
    assertThat(appliedData(net, 1)).containsExactly("y");

    net.recover();
    net.campaign(4);
    assertThat(net.leader()).isEqualTo(4);
  }

  // Thesis §4.3: joint consensus replaces the leader, which steps down once C_new applies.
  @ParameterizedTest
  @EnumSource(value = Transition.class, names = {"JOINT_EXPLICIT", "JOINT_IMPLICIT"})
  void jointConsensusReplacesTheLeader(Transition transition) {
    Network net = Network.of(3);
    net.campaign(1);
    long oldTerm = net.raft(1).term;
    net.add(4, MemoryStorage.withVoters(1L, 2L, 3L));

    net.node(1).proposeConfChange(new ConfChange(transition,
        List.of(new ConfChangeSingle(Type.ADD_NODE, 4), new ConfChangeSingle(Type.REMOVE_NODE, 1)), null));
    net.stabilize();

    if (transition == Transition.JOINT_EXPLICIT) {
      for (long id = 1; id <= 4; id++) {
        var voters = net.raft(id).trk.config().voters();
        assertThat(voters.incoming().ids()).as("C_new at %d", id).isEqualTo(Set.of(2L, 3L, 4L));
        assertThat(voters.outgoing().ids()).as("C_old at %d", id).isEqualTo(Set.of(1L, 2L, 3L));
      }
      assertThat(net.raft(1).state).as("the leader leads the joint phase").isEqualTo(StateType.LEADER);
      assertThat(refusal(() -> net.node(1).proposeConfChange(ConfChange.addLearner(5))))
          .isEqualTo(ProposalDroppedException.Reason.CONF_CHANGE_PENDING);

      // A majority of C_old alone ({1, 3}) does not commit: C_new ({2, 3, 4}) has only 3.
      net.cut(1, 2);
      net.cut(1, 4);
      long committed = net.raft(1).raftLog.committed;
      net.propose(1, "joint");
      assertThat(net.raft(1).raftLog.committed).isEqualTo(committed);
      net.recover();
      net.tick(1, 1);
      net.stabilize();
      assertThat(appliedData(net, 4)).containsExactly("joint");

      net.node(1).proposeConfChange(ConfChange.leaveJoint());
      net.stabilize();
    }

    Raft r1 = net.raft(1);
    assertThat(r1.state).as("the removed leader stepped down").isEqualTo(StateType.FOLLOWER);
    assertThat(r1.lead).isEqualTo(Raft.NONE);
    assertThat(r1.promotable()).isFalse();
    for (long id = 1; id <= 4; id++) {
      ConfState cs = net.raft(id).trk.confState();
      assertThat(cs.voters()).as("C_new at %d", id).containsExactly(2L, 3L, 4L);
      assertThat(cs.isJoint()).isFalse();
    }

    long leader = tickUntilLeader(net, 60);

    assertThat(leader).isIn(2L, 3L, 4L);
    assertThat(net.raft(leader).term).isGreaterThan(oldTerm);
    net.propose(leader, "after");
    for (long id = 2; id <= 4; id++) {
      assertThat(appliedData(net, id)).as("applied at %d", id).endsWith("after");
    }
    assertThat(appliedData(net, 1)).doesNotContain("after");
    assertThat(r1.state).isEqualTo(StateType.FOLLOWER);
  }

  // Thesis §4.3 (etcd TestCommitAfterRemoveNode): applying a removal commits with the new quorum.
  @Test
  void removingANodeLetsTheSmallerQuorumCommitPendingEntries() {
    Network net = Network.of(4);
    net.campaign(1);
    net.isolate(4);
    Raft r1 = net.raft(1);

    net.node(1).proposeConfChange(ConfChange.removeNode(4));
    net.processReady(1);
    long ccIndex = r1.raftLog.lastIndex();
    net.node(1).propose(RaftFixtures.bytes("x"));
    net.processReady(1);
    long xIndex = r1.raftLog.lastIndex();
    // 3 gets the removal but not x; the leader applies nothing yet.
    net.dropFilter = m -> m.type() == MessageType.APP && m.to() == 3
        && m.entries().stream().anyMatch(e -> e.index() == xIndex);
    net.held.add(1L);
    net.stabilize();

    assertThat(r1.trk.get(2).match()).isEqualTo(xIndex);
    assertThat(r1.trk.get(3).match()).isEqualTo(ccIndex);
    assertThat(r1.raftLog.committed).as("x is on 1 and 2: not a majority of four").isEqualTo(ccIndex);

    net.held.clear();
    net.processReady(1);

    assertThat(r1.trk.confState().voters()).containsExactly(1L, 2L, 3L);
    assertThat(r1.raftLog.committed).as("x is on 1 and 2: a majority of three").isEqualTo(xIndex);
    net.stabilize();
    assertThat(appliedData(net, 1)).containsExactly("x");
    assertThat(appliedData(net, 2)).containsExactly("x");
  }

  // Thesis §4.1: one membership change at a time; a second is refused until applied.
  @Test
  void secondConfChangeIsRefusedWhileOneIsPending() {
    Network net = Network.of(3);
    net.campaign(1);
    net.cut(1, 2);
    net.cut(1, 3);
    net.node(1).proposeConfChange(ConfChange.addLearner(4));
    net.stabilize();

    assertThat(refusal(() -> net.node(1).proposeConfChange(ConfChange.addLearner(5))))
        .isEqualTo(ProposalDroppedException.Reason.CONF_CHANGE_PENDING);
    assertThat(refusal(() -> net.node(1).proposeConfChange(ConfChange.leaveJoint())))
        .isEqualTo(ProposalDroppedException.Reason.CONF_CHANGE_PENDING);
    long last = net.raft(1).raftLog.lastIndex();
    net.propose(1, "x");
    assertThat(net.raft(1).raftLog.lastIndex()).isEqualTo(last + 1);

    net.recover();
    net.tick(1, 1);
    net.stabilize();
    assertThat(net.raft(1).trk.confState().learners()).containsExactly(4L);
    net.node(1).proposeConfChange(ConfChange.addLearner(5));
    net.stabilize();
    assertThat(net.raft(1).trk.confState().learners()).containsExactly(4L, 5L);
    assertThatThrownBy(() -> net.node(1).proposeConfChange(ConfChange.leaveJoint()))
        .isInstanceOfSatisfying(ProposalDroppedException.class,
            e -> assertThat(e.reason()).isEqualTo(ProposalDroppedException.Reason.INVALID_CONF_CHANGE));
  }
  // etcd TestNewLeaderPendingConfig: a new leader refuses conf changes until its log is applied.
  @Test
  void newLeaderRefusesConfChangesUntilItAppliedItsLog() {
    MemoryStorage clean = MemoryStorage.withVoters(1L, 2L);
    Raft fresh = RaftFixtures.leader(RaftFixtures.newRaft(RaftFixtures.config(1), clean));
    assertThat(fresh.pendingConfIndex).isZero();
    fresh.step(Message.builder(MessageType.PROPOSE).from(1)
        .entries(List.of(ConfChange.addLearner(3).toEntry())).build());
    assertThat(fresh.pendingConfIndex).isEqualTo(2);

    MemoryStorage s = RaftFixtures.storage(new long[] {1}, 1, 0, 1L, 2L);
    Raft r = RaftFixtures.leader(RaftFixtures.newRaft(RaftFixtures.config(1), s));
    assertThat(r.pendingConfIndex).isEqualTo(1);
    assertThat(refusal(() -> r.step(Message.builder(MessageType.PROPOSE).from(1)
        .entries(List.of(ConfChange.addLearner(3).toEntry())).build())))
        .isEqualTo(ProposalDroppedException.Reason.CONF_CHANGE_PENDING);
  }

  // Thesis §4.2.2: a removed leader steps down on applying it; the rest elect and commit.
  @Test
  void leaderRemovedBySimpleChangeStepsDownAndTheRestElect() {
    Network net = Network.of(3);
    net.campaign(1);

    net.node(1).proposeConfChange(ConfChange.removeNode(1));
    net.stabilize();

    assertThat(net.raft(1).state).isEqualTo(StateType.FOLLOWER);
    for (long id = 2; id <= 3; id++) {
      assertThat(net.raft(id).trk.confState().voters()).containsExactly(2L, 3L);
    }
    long leader = tickUntilLeader(net, 60);
    assertThat(leader).isIn(2L, 3L);
    net.propose(leader, "x");
    assertThat(appliedData(net, 2)).containsExactly("x");
    assertThat(appliedData(net, 3)).containsExactly("x");
    assertThatThrownBy(() -> net.node(1).propose(RaftFixtures.bytes("y")))
        .isInstanceOf(ProposalDroppedException.class);
  }
}
