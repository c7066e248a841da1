package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Leadership transfer (Raft thesis §3.10). */
class RaftTransferTest {

  private static int firstIndexOf(List<Message> ms, java.util.function.Predicate<Message> p) {
    for (int i = 0; i < ms.size(); i++) {
      if (p.test(ms.get(i))) {
        return i;
      }
    }
    return -1;
  }

  // Thesis §3.10: an up-to-date transferee gets TimeoutNow at once and wins the next term.
  @Test
  void transferToUpToDateFollowerSendsTimeoutNowAndItWinsTheNextTerm() {
    Network net = Network.of(3, b -> b.preVote(true));
    net.campaign(1);
    long term = net.raft(1).term;

    net.node(1).transferLeader(2);
    assertThat(net.raft(1).msgs).filteredOn(m -> m.type() == MessageType.TIMEOUT_NOW)
        .singleElement()
        .satisfies(m -> assertThat(m.to()).isEqualTo(2));
    net.stabilize();

    assertThat(net.leader()).isEqualTo(2);
    assertThat(net.raft(2).term).isEqualTo(term + 1);
    assertThat(net.raft(1).state).isEqualTo(StateType.FOLLOWER);
    assertThat(net.raft(1).lead).isEqualTo(2);
    assertThat(net.raft(1).leadTransferee).isEqualTo(Raft.NONE);
    assertThat(net.delivered).filteredOn(m -> m.from() == 2 && m.type() == MessageType.VOTE)
        .allSatisfy(m -> assertThat(m.context()).isEqualTo(Raft.CAMPAIGN_TRANSFER))
        .hasSize(2);
    assertThat(net.delivered).noneMatch(m -> m.type() == MessageType.PRE_VOTE && m.from() == 2);
  }

  // Thesis §3.10: transfer votes are marked, so followers in lease do not ignore them.
  @Test
  void transferredElectionIsNotIgnoredByFollowersInLease() {
    Network net = Network.of(3, b -> b.checkQuorum(true));
    net.campaign(1);

    net.node(1).transferLeader(3);
    net.stabilize();

    assertThat(net.leader()).isEqualTo(3);
    assertThat(net.raft(3).term).isEqualTo(2);
    assertThat(net.raft(2).lead).isEqualTo(3);
  }

  // Thesis §3.10: a lagging transferee is caught up first; TimeoutNow follows its last ack.
  @Test
  void transferToSlowFollowerCatchesItUpBeforeTimeoutNow() {
    Network net = Network.of(3);
    net.campaign(1);
    net.isolate(3);
    for (int i = 0; i < 5; i++) {
      net.propose(1, "w" + i);
    }
    net.recover();
    long lastIndex = net.raft(1).raftLog.lastIndex();
    assertThat(net.raft(3).raftLog.lastIndex()).isLessThan(lastIndex);
    int before = net.delivered.size();

    net.node(1).transferLeader(3);
    assertThat(net.raft(1).leadTransferee).isEqualTo(3);
    assertThat(net.raft(1).msgs).noneMatch(m -> m.type() == MessageType.TIMEOUT_NOW);
    net.stabilize();

    List<Message> after = net.delivered.subList(before, net.delivered.size());
    int caughtUp = firstIndexOf(after, m -> m.type() == MessageType.APP_RESP && m.from() == 3
        && !m.reject() && m.index() == lastIndex);
    int timeoutNow = firstIndexOf(after, m -> m.type() == MessageType.TIMEOUT_NOW);
    assertThat(caughtUp).isNotNegative();
    assertThat(timeoutNow).isGreaterThan(caughtUp);
    assertThat(after).filteredOn(m -> m.type() == MessageType.TIMEOUT_NOW).hasSize(1);
    assertThat(net.leader()).isEqualTo(3);
    assertThat(RaftFixtures.appliedData(net, 3)).containsExactly("w0", "w1", "w2", "w3", "w4");
  }

  // Thesis §3.10: proposals are refused (LEADER_TRANSFERRING) while a transfer is under way.
  @Test
  void proposalsAreRefusedWhileTransferring() {
    Network net = Network.of(3);
    net.campaign(1);
    net.isolate(3);
    net.node(1).transferLeader(3);
    long last = net.raft(1).raftLog.lastIndex();

    assertThatThrownBy(() -> net.node(1).propose(bytes("x")))
        .isInstanceOfSatisfying(ProposalDroppedException.class,
            e -> assertThat(e.reason()).isEqualTo(ProposalDroppedException.Reason.LEADER_TRANSFERRING));
    net.node(2).propose(bytes("forwarded"));
    net.stabilize();

    assertThat(net.raft(1).raftLog.lastIndex()).isEqualTo(last);
  }

  // Thesis §3.10: a transfer not done within an election timeout is aborted.
  @Test
  void transferIsAbortedAfterAnElectionTimeout() {
    Network net = Network.of(3);
    net.campaign(1);
    net.isolate(3);
    net.node(1).transferLeader(3);

    net.tick(1, 9);
    net.stabilize();
    assertThat(net.raft(1).leadTransferee).isEqualTo(3);
    net.tick(1, 1);
    net.stabilize();

    assertThat(net.raft(1).leadTransferee).isEqualTo(Raft.NONE);
    assertThat(net.raft(1).state).isEqualTo(StateType.LEADER);
    assertThat(net.raft(1).term).isEqualTo(1);
    net.propose(1, "x");
    assertThat(RaftFixtures.appliedData(net, 1)).containsExactly("x");
  }

  // Thesis §3.10 (etcd): transfers to self or a learner are ignored; a new target replaces the old.
  @Test
  void transferToSelfOrLearnerIsIgnoredAndANewTargetReplacesTheOld() {
    Network net = Network.of(3);
    net.campaign(1);
    net.add(4, MemoryStorage.withVoters(1L, 2L, 3L));
    net.node(1).proposeConfChange(ConfChange.addLearner(4));
    net.stabilize();

    net.node(1).transferLeader(1);
    net.node(1).transferLeader(4);
    assertThat(net.raft(1).leadTransferee).isEqualTo(Raft.NONE);

    net.isolate(3);
    net.node(1).transferLeader(3);
    assertThat(net.raft(1).leadTransferee).isEqualTo(3);
    net.node(1).transferLeader(2);
    assertThat(net.raft(1).leadTransferee).isEqualTo(2);
    net.stabilize();
    assertThat(net.leader()).isEqualTo(2);
    assertThat(net.delivered).noneMatch(m -> m.type() == MessageType.TIMEOUT_NOW && m.to() == 4);
    assertThat(Arrays.asList(net.raft(2).term, net.raft(1).term)).containsOnly(2L);
  }
  // Thesis §3.10 (etcd): a follower forwards a transfer on behalf of the requested transferee.
  @Test
  void transferRequestedAtAFollowerIsForwardedForTheRequestedTransferee() {
    Network net = Network.of(3);
    net.campaign(1);

    net.node(2).transferLeader(3);
    net.stabilize();

    assertThat(net.delivered).filteredOn(m -> m.type() == MessageType.TRANSFER_LEADER)
        .singleElement()
        .satisfies(m -> {
          assertThat(m.to()).isEqualTo(1);
          assertThat(m.from()).as("the transferee").isEqualTo(3);
        });
    assertThat(net.delivered).filteredOn(m -> m.type() == MessageType.TIMEOUT_NOW)
        .extracting(Message::to).containsExactly(3L);
    assertThat(net.leader()).isEqualTo(3);
  }

  // Thesis §3.10 (etcd): removing the transferee aborts the transfer.
  @Test
  void transferIsAbortedWhenTheTransfereeIsRemoved() {
    Network net = Network.of(3);
    net.campaign(1);
    net.isolate(3);
    net.node(1).proposeConfChange(ConfChange.removeNode(3));
    net.node(1).transferLeader(3);
    assertThat(net.raft(1).leadTransferee).isEqualTo(3);

    net.stabilize();

    assertThat(net.raft(1).trk.confState().voters()).containsExactly(1L, 2L);
    assertThat(net.raft(1).leadTransferee).isEqualTo(Raft.NONE);
    assertThat(net.raft(1).state).isEqualTo(StateType.LEADER);
    net.propose(1, "x");
    assertThat(RaftFixtures.appliedData(net, 2)).containsExactly("x");
  }
}
