package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.app;
import static io.flotilla.engine.raft.RaftFixtures.config;
import static io.flotilla.engine.raft.RaftFixtures.drain;
import static io.flotilla.engine.raft.RaftFixtures.hup;
import static io.flotilla.engine.raft.RaftFixtures.newRaft;
import static io.flotilla.engine.raft.RaftFixtures.tickUntilLeader;
import static io.flotilla.engine.raft.RaftFixtures.vote;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Keeping a healthy leader in place: pre-vote (Raft thesis §9.6), check-quorum and the leader
 * lease on votes (thesis §6.2, §4.2.3), and freeing a node stuck at a higher term.
 */
class RaftDisruptionTest {

  // Thesis §9.6: a pre-candidate asks for votes for term + 1 without changing its term or vote.
  @Test
  void preCandidateKeepsItsTermAndVote() {
    Raft r = newRaft(config(1).preVote(true), MemoryStorage.withVoters(1L, 2L, 3L));
    r.becomeFollower(4, Raft.NONE);

    r.step(hup(1));

    assertThat(r.state).isEqualTo(StateType.PRE_CANDIDATE);
    assertThat(r.term).isEqualTo(4);
    assertThat(r.vote).isEqualTo(Raft.NONE);
    List<Message> ms = drain(r);
    assertThat(ms).hasSize(2).allSatisfy(m -> {
      assertThat(m.type()).isEqualTo(MessageType.PRE_VOTE);
      assertThat(m.term()).isEqualTo(5);
    });
  }

  // Thesis §9.6: granting a pre-vote changes neither the voter's term nor its vote.
  @Test
  void preVoteIsGrantedWithoutChangingTheVotersTermOrVote() {
    Raft r = newRaft(config(1).preVote(true), MemoryStorage.withVoters(1L, 2L, 3L));
    r.becomeFollower(4, Raft.NONE);

    r.step(vote(MessageType.PRE_VOTE, 2, 1, 5, 0, 0));

    assertThat(r.term).isEqualTo(4);
    assertThat(r.vote).isEqualTo(Raft.NONE);
    assertThat(drain(r)).singleElement().satisfies(m -> {
      assertThat(m.type()).isEqualTo(MessageType.PRE_VOTE_RESP);
      assertThat(m.reject()).isFalse();
      assertThat(m.term()).isEqualTo(5);
    });
  }

  // Thesis §9.6: a rejoining node pre-votes without raising its term; leader and term stay.
  // Pre-vote alone suffices when the node missed writes; with equal logs check-quorum's lease does.
  @ParameterizedTest(name = "checkQuorum={0}, writes while away={1}")
  @CsvSource({"false, true", "true, false", "true, true"})
  void partitionedNodeRejoiningDoesNotDisruptTheLeaderWithPreVote(boolean checkQuorum, boolean writes) {
    Network net = Network.of(3, b -> b.preVote(true).checkQuorum(checkQuorum));
    net.campaign(1);
    long term = net.raft(1).term;
    int electionDone = net.delivered.size();
    net.isolate(3);
    if (writes) {
      net.propose(1, "while-3-is-away");
    }
    net.tickAll(60);
    assertThat(net.raft(3).term).as("pre-votes do not raise the term").isEqualTo(term);
    assertThat(net.delivered).noneMatch(m -> m.type() == MessageType.VOTE && m.from() == 3);

    net.recover();
    net.tickAll(30);

    assertThat(net.leader()).isEqualTo(1);
    for (long id = 1; id <= 3; id++) {
      assertThat(net.raft(id).term).as("term of %d", id).isEqualTo(term);
    }
    assertThat(net.delivered.subList(electionDone, net.delivered.size()))
        .as("nobody campaigned for real").noneMatch(m -> m.type() == MessageType.VOTE);
    assertThat(net.raft(3).state).isEqualTo(StateType.FOLLOWER);
    assertThat(net.raft(3).lead).isEqualTo(1);
    assertThat(net.raft(3).raftLog.committed).isEqualTo(net.raft(1).raftLog.committed);
  }

  // Control for the test above: without pre-vote the rejoining node's higher term deposes the leader.
  @Test
  void partitionedNodeRejoiningDisruptsTheLeaderWithoutPreVote() {
    Network net = Network.of(3);
    net.campaign(1);
    long term = net.raft(1).term;
    net.isolate(3);
    net.tickAll(60);
    assertThat(net.raft(3).term).isGreaterThan(term);

    net.recover();
    net.tickAll(20);

    assertThat(net.raft(1).term).as("the old leader was deposed").isGreaterThan(term);
  }

  // Thesis §6.2: check-quorum deposes a leader that heard from no quorum for an election timeout.
  @Test
  void leaderStepsDownAfterAnElectionTimeoutWithoutItsQuorum() {
    Network net = Network.of(3, b -> b.checkQuorum(true));
    net.campaign(1);
    long term = net.raft(1).term;
    net.isolate(1);

    // The first check after the cut may still count acks from before it; the second cannot.
    net.tick(1, 10);
    net.stabilize();
    net.tick(1, 10);
    net.stabilize();

    Raft r = net.raft(1);
    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.term).isEqualTo(term);
    assertThat(r.lead).isEqualTo(Raft.NONE);
  }

  // Thesis §6.2: exactly the check that finds no active quorum deposes the leader.
  @Test
  void checkQuorumDeposesTheLeaderAtTheFirstCheckWithoutActiveFollowers() {
    Raft r = newRaft(config(1).checkQuorum(true), MemoryStorage.withVoters(1L, 2L, 3L));
    RaftFixtures.leader(r);
    for (int i = 0; i < 9; i++) {
      r.tick();
    }
    assertThat(r.state).isEqualTo(StateType.LEADER);

    r.tick();

    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.term).isEqualTo(1);
  }

  // Thesis §6.2: a leader that hears from a quorum keeps leading, however long it runs.
  @Test
  void leaderWithAnActiveQuorumKeepsLeading() {
    Network net = Network.of(3, b -> b.checkQuorum(true));
    net.campaign(1);
    net.isolate(3);

    net.tickAll(100);

    assertThat(net.raft(1).state).isEqualTo(StateType.LEADER);
    assertThat(net.raft(1).term).isEqualTo(1);
    assertThat(net.raft(2).lead).isEqualTo(1);
  }

  // Thesis §4.2.3: a follower that heard its leader within an election timeout ignores votes.
  @Test
  void followerInLeaseIgnoresVoteRequests() {
    Network net = Network.of(3, b -> b.checkQuorum(true));
    net.campaign(1);
    Raft r2 = net.raft(2);
    long lastIndex = r2.raftLog.lastIndex();
    long lastTerm = r2.raftLog.lastTerm();

    net.send(vote(MessageType.VOTE, 3, 2, 5, lastIndex, lastTerm));

    assertThat(r2.term).isEqualTo(1);
    assertThat(r2.vote).isEqualTo(1);
    assertThat(r2.lead).isEqualTo(1);
    assertThat(net.delivered)
        .noneMatch(m -> m.type() == MessageType.VOTE_RESP && m.from() == 2 && m.to() == 3);

    // Once the leader has been silent for an election timeout, the lease is over.
    net.isolate(1);
    net.tick(2, 10);
    net.send(vote(MessageType.VOTE, 3, 2, 5, lastIndex, lastTerm));

    assertThat(r2.term).isEqualTo(5);
    assertThat(r2.vote).isEqualTo(3);
    assertThat(net.delivered)
        .anyMatch(m -> m.type() == MessageType.VOTE_RESP && m.from() == 2 && !m.reject());
  }

  // Thesis §9.6 (etcd): a candidate stuck at a higher term answers stale heartbeats, freeing itself.
  @Test
  void stuckCandidateIsFreedWhenItRejoins() {
    Network net = Network.of(3, b -> b.checkQuorum(true));
    net.campaign(1);
    net.isolate(3);
    net.campaign(3);
    net.campaign(3);
    Raft r3 = net.raft(3);
    assertThat(r3.state).isEqualTo(StateType.CANDIDATE);
    assertThat(r3.term).isEqualTo(3);

    net.recover();
    // Followers in lease ignore the stuck candidate's votes.
    net.campaign(3);
    assertThat(r3.term).isEqualTo(4);
    assertThat(net.raft(2).term).isEqualTo(1);
    assertThat(net.raft(1).state).isEqualTo(StateType.LEADER);

    net.tick(1, 1);
    net.stabilize();

    Raft r1 = net.raft(1);
    assertThat(net.delivered)
        .anyMatch(m -> m.type() == MessageType.APP_RESP && m.from() == 3 && m.term() == 4);
    assertThat(r1.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r1.term).isEqualTo(r3.term);

    long leader = tickUntilLeader(net, 60);

    assertThat(leader).isNotZero();
    long term = net.raft(leader).term;
    assertThat(term).isGreaterThanOrEqualTo(4);
    for (long id = 1; id <= 3; id++) {
      assertThat(net.raft(id).term).isEqualTo(term);
      assertThat(net.raft(id).lead).isEqualTo(leader);
    }
  }

  // Thesis §9.6 (etcd): stale appends and pre-votes are answered with the current term.
  @Test
  void staleAppendAndPreVoteAreAnsweredWithTheCurrentTerm() {
    Raft r = newRaft(config(1).preVote(true), MemoryStorage.withVoters(1L, 2L, 3L));
    r.becomeFollower(5, 3);

    r.step(app(2, 1, 4, 0, 0, 0, List.of()));
    r.step(vote(MessageType.PRE_VOTE, 2, 1, 4, 10, 4));

    List<Message> ms = drain(r);
    assertThat(ms).extracting(Message::type, Message::term, Message::reject)
        .containsExactly(
            tuple(MessageType.APP_RESP, 5L, false),
            tuple(MessageType.PRE_VOTE_RESP, 5L, true));
    assertThat(r.term).isEqualTo(5);
    assertThat(r.lead).isEqualTo(3);
  }
  // Thesis §9.6 (etcd): a pre-candidate behind in term learns the term from the rejection.
  @Test
  void nodeWithSmallerTermCanCompleteAnElectionWithPreVote() {
    Network net = Network.of(3, b -> b.preVote(true));
    net.cut(1, 3);
    net.cut(2, 3);
    net.campaign(1);
    assertThat(net.raft(1).state).isEqualTo(StateType.LEADER);
    net.campaign(3);
    assertThat(net.raft(3).state).isEqualTo(StateType.PRE_CANDIDATE);
    net.campaign(2);
    assertThat(net.raft(2).state).isEqualTo(StateType.LEADER);
    assertThat(List.of(net.raft(1).term, net.raft(2).term, net.raft(3).term)).containsExactly(2L, 2L, 0L);

    net.recover();
    net.cut(2, 1);
    net.cut(2, 3);
    net.campaign(3);
    assertThat(net.raft(3).term).as("the rejected pre-vote carries the higher term").isEqualTo(2);
    assertThat(net.raft(3).state).isEqualTo(StateType.FOLLOWER);
    net.campaign(1);

    assertThat(net.raft(1).state == StateType.LEADER || net.raft(3).state == StateType.LEADER).isTrue();
    assertThat(net.raft(1).term).isEqualTo(3);
    assertThat(net.raft(3).term).isEqualTo(3);
  }

  // Thesis §6.4.1: with leases, a restarted follower refuses votes for an election timeout.
  @Test
  void restartedFollowerRefusesVotesForAnElectionTimeoutWithLeaseReads() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    s.setHardState(new HardState(1, 2, 0));
    Config c = Config.builder(1, bound -> bound - 1).electionTick(10).heartbeatTick(1)
        .checkQuorum(true).preVote(false).readOnlyOption(ReadOnlyOption.LEASE_BASED).build();
    Raft r = new Raft(c, s);

    r.step(vote(MessageType.VOTE, 3, 1, 2, 0, 0));
    assertThat(r.term).isEqualTo(1);
    assertThat(drain(r)).isEmpty();

    for (int i = 0; i < 10; i++) {
      r.tick();
    }
    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    r.step(vote(MessageType.VOTE, 3, 1, 2, 0, 0));

    assertThat(r.term).isEqualTo(2);
    assertThat(r.vote).isEqualTo(3);
    assertThat(drain(r)).singleElement().satisfies(m -> assertThat(m.reject()).isFalse());
  }

  // A split's new replica has state (a term) but no earlier life: it votes and campaigns at once.
  @Test
  void aMemberCreatedInThisLifeVotesAndCampaignsAtOnceWithLeaseReads() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    s.setHardState(new HardState(5, 0, 0));
    Config c = Config.builder(1, bound -> bound - 1).electionTick(10).heartbeatTick(1)
        .checkQuorum(true).preVote(false).readOnlyOption(ReadOnlyOption.LEASE_BASED).restarted(false).build();
    Raft r = new Raft(c, s);

    r.step(vote(MessageType.VOTE, 3, 1, 6, 0, 0));
    assertThat(r.term).isEqualTo(6);
    assertThat(r.vote).isEqualTo(3);
    assertThat(drain(r)).singleElement().satisfies(m -> assertThat(m.reject()).isFalse());

    MemoryStorage s2 = MemoryStorage.withVoters(1L, 2L, 3L);
    s2.setHardState(new HardState(5, 0, 0));
    RawNode fresh = new RawNode(c, s2);
    fresh.campaign();
    assertThat(fresh.state()).isEqualTo(StateType.CANDIDATE);

    RawNode restarted = new RawNode(Config.builder(1, bound -> bound - 1).electionTick(10).heartbeatTick(1)
        .checkQuorum(true).preVote(false).readOnlyOption(ReadOnlyOption.LEASE_BASED).build(), s2);
    restarted.campaign();
    assertThat(restarted.state()).as("a restarted member waits out the guard").isEqualTo(StateType.FOLLOWER);
  }
}
