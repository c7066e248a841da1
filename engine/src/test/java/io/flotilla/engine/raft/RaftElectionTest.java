package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.app;
import static io.flotilla.engine.raft.RaftFixtures.config;
import static io.flotilla.engine.raft.RaftFixtures.drain;
import static io.flotilla.engine.raft.RaftFixtures.entries;
import static io.flotilla.engine.raft.RaftFixtures.heartbeat;
import static io.flotilla.engine.raft.RaftFixtures.hup;
import static io.flotilla.engine.raft.RaftFixtures.leader;
import static io.flotilla.engine.raft.RaftFixtures.newRaft;
import static io.flotilla.engine.raft.RaftFixtures.ofType;
import static io.flotilla.engine.raft.RaftFixtures.storage;
import static io.flotilla.engine.raft.RaftFixtures.tickUntilLeader;
import static io.flotilla.engine.raft.RaftFixtures.vote;
import static io.flotilla.engine.raft.RaftFixtures.voteResp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Terms and leader election, Raft paper §5.1, §5.2 and §5.4.1 (etcd raft_paper_test.go style). */
class RaftElectionTest {

  private static Raft inState(StateType s) {
    Raft r = newRaft(config(1).preVote(s == StateType.PRE_CANDIDATE), MemoryStorage.withVoters(1L, 2L, 3L));
    r.becomeFollower(1, 2);
    switch (s) {
      case FOLLOWER -> { }
      case PRE_CANDIDATE -> r.step(hup(1));
      case CANDIDATE -> r.becomeCandidate();
      case LEADER -> leader(r);
    }
    assertThat(r.state).isEqualTo(s);
    drain(r);
    return r;
  }

  // §5.1: any role seeing a higher term in an append adopts it and follows the sender.
  @ParameterizedTest
  @EnumSource(StateType.class)
  void nodeAdoptsHigherTermFromAppendAndFollowsItsSender(StateType s) {
    Raft r = inState(s);
    long term = r.term;

    r.step(app(3, 1, term + 1, 0, 0, 0, List.of()));

    assertThat(r.term).isEqualTo(term + 1);
    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.lead).isEqualTo(3);
    assertThat(r.vote).isEqualTo(Raft.NONE);
  }

  // §5.1: any role seeing a higher term in a vote request adopts it, with no leader.
  @ParameterizedTest
  @EnumSource(StateType.class)
  void nodeAdoptsHigherTermFromVoteRequestWithoutALeader(StateType s) {
    Raft r = inState(s);
    long term = r.term;
    long lastIndex = r.raftLog.lastIndex();
    long lastTerm = r.raftLog.lastTerm();

    r.step(vote(MessageType.VOTE, 3, 1, term + 5, lastIndex, lastTerm));

    assertThat(r.term).isEqualTo(term + 5);
    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.lead).isEqualTo(Raft.NONE);
    assertThat(r.vote).isEqualTo(3);
  }

  // §5.1: a request with a stale term is rejected: nothing changes, nothing is answered.
  @ParameterizedTest
  @EnumSource(value = StateType.class, names = {"FOLLOWER", "CANDIDATE", "LEADER"})
  void staleTermMessagesAreIgnored(StateType s) {
    Raft r = inState(s);
    r.becomeFollower(r.term + 2, 2);
    if (s == StateType.CANDIDATE) {
      r.becomeCandidate();
    } else if (s == StateType.LEADER) {
      leader(r);
    }
    drain(r);
    long term = r.term;
    long vote = r.vote;
    long lead = r.lead;
    long lastIndex = r.raftLog.lastIndex();
    long committed = r.raftLog.committed;

    r.step(app(3, 1, term - 1, lastIndex, r.raftLog.lastTerm(), lastIndex, entries(lastIndex + 1, term - 1)));
    r.step(heartbeat(3, 1, term - 1, lastIndex));
    r.step(vote(MessageType.VOTE, 3, 1, term - 1, lastIndex + 10, term - 1));
    r.step(RaftFixtures.appResp(3, 1, term - 1, lastIndex));

    assertThat(drain(r)).isEmpty();
    assertThat(r.term).isEqualTo(term);
    assertThat(r.vote).isEqualTo(vote);
    assertThat(r.lead).isEqualTo(lead);
    assertThat(r.state).isEqualTo(s);
    assertThat(r.raftLog.lastIndex()).isEqualTo(lastIndex);
    assertThat(r.raftLog.committed).isEqualTo(committed);
  }

  // §5.2: when servers start up, they begin as followers.
  @Test
  void nodeStartsAsFollower() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.term).isZero();
    assertThat(r.lead).isEqualTo(Raft.NONE);
  }

  // §5.2: after an election timeout a follower increments its term, votes for itself, asks all.
  @Test
  void followerStartsElectionAfterElectionTimeout() {
    Raft r = newRaft(config(1), storage(new long[] {1, 2}, 2, 0, 1L, 2L, 3L));
    for (int i = 0; i < 9; i++) {
      r.tick();
    }
    assertThat(r.state).isEqualTo(StateType.FOLLOWER);

    r.tick();

    assertThat(r.state).isEqualTo(StateType.CANDIDATE);
    assertThat(r.term).isEqualTo(3);
    assertThat(r.vote).isEqualTo(1);
    List<Message> votes = drain(r);
    assertThat(votes).extracting(Message::type).containsOnly(MessageType.VOTE);
    assertThat(votes).extracting(Message::to).containsExactlyInAnyOrder(2L, 3L);
    assertThat(votes).allSatisfy(m -> {
      assertThat(m.term()).isEqualTo(3);
      assertThat(m.index()).isEqualTo(2);
      assertThat(m.logTerm()).isEqualTo(2);
    });
  }

  // §5.2: a candidate whose election times out starts another in the next term.
  @Test
  void candidateStartsNewElectionAfterElectionTimeout() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(hup(1));
    assertThat(r.term).isEqualTo(1);
    drain(r);

    for (int i = 0; i < 10; i++) {
      r.tick();
    }

    assertThat(r.state).isEqualTo(StateType.CANDIDATE);
    assertThat(r.term).isEqualTo(2);
    assertThat(r.vote).isEqualTo(1);
    assertThat(ofType(drain(r), MessageType.VOTE)).extracting(Message::term).containsOnly(2L);
  }

  // §5.2: election timeouts are chosen randomly from a fixed interval, [electionTick, 2 * electionTick).
  @Test
  void electionTimeoutIsRandomizedBetweenOneAndTwoElectionTicks() {
    Random rnd = new Random(7);
    Config c = Config.builder(1, rnd::nextInt).electionTick(10).heartbeatTick(1).preVote(false).build();
    Raft r = new Raft(c, MemoryStorage.withVoters(1L, 2L, 3L));
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      r.becomeFollower(r.term + 1, Raft.NONE);
      int ticks = 0;
      while (r.state == StateType.FOLLOWER) {
        r.tick();
        ticks++;
      }
      seen.add(ticks);
    }
    assertThat(seen).allSatisfy(t -> assertThat(t).isBetween(10, 19));
    assertThat(seen).hasSizeGreaterThan(5);
  }

  static Stream<Arguments> oneRoundElections() {
    // voters, granted by, rejected by, expected state after the round
    return Stream.of(
        Arguments.of(1, List.of(), List.of(), StateType.LEADER),
        Arguments.of(3, List.of(2L, 3L), List.of(), StateType.LEADER),
        Arguments.of(3, List.of(2L), List.of(), StateType.LEADER),
        Arguments.of(5, List.of(2L, 3L, 4L, 5L), List.of(), StateType.LEADER),
        Arguments.of(5, List.of(2L, 3L, 4L), List.of(), StateType.LEADER),
        Arguments.of(5, List.of(2L, 3L), List.of(4L, 5L), StateType.LEADER),
        Arguments.of(3, List.of(), List.of(), StateType.CANDIDATE),
        Arguments.of(3, List.of(), List.of(2L), StateType.CANDIDATE),
        Arguments.of(5, List.of(2L), List.of(3L, 4L), StateType.CANDIDATE),
        Arguments.of(3, List.of(), List.of(2L, 3L), StateType.FOLLOWER),
        Arguments.of(5, List.of(2L), List.of(3L, 4L, 5L), StateType.FOLLOWER),
        Arguments.of(5, List.of(), List.of(2L, 3L, 4L), StateType.FOLLOWER));
  }

  // §5.2: a majority of votes wins, a majority of rejections loses, otherwise still candidate.
  @ParameterizedTest
  @MethodSource("oneRoundElections")
  void electionIsWonByMajorityAndLostByMajorityRejection(
      int size, List<Long> granted, List<Long> rejected, StateType expected) {
    Long[] ids = new Long[size];
    for (int i = 0; i < size; i++) {
      ids[i] = (long) i + 1;
    }
    Raft r = newRaft(1, ids);
    r.step(hup(1));
    for (long id : granted) {
      r.step(voteResp(id, 1, 1, false));
    }
    for (long id : rejected) {
      r.step(voteResp(id, 1, 1, true));
    }

    assertThat(r.state).isEqualTo(expected);
    assertThat(r.term).isEqualTo(1);
    assertThat(r.lead).isEqualTo(expected == StateType.LEADER ? 1 : Raft.NONE);
  }

  // §5.2: a winner sends appends at once to establish its authority (and its no-op entry).
  @Test
  void newLeaderAppendsEmptyEntryAndBroadcastsIt() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(hup(1));
    drain(r);
    r.step(voteResp(2, 1, 1, false));

    assertThat(r.state).isEqualTo(StateType.LEADER);
    assertThat(r.raftLog.lastIndex()).isEqualTo(1);
    assertThat(r.raftLog.term(1)).isEqualTo(1);
    List<Message> apps = ofType(drain(r), MessageType.APP);
    assertThat(apps).extracting(Message::to).containsExactlyInAnyOrder(2L, 3L);
    assertThat(apps).allSatisfy(m -> assertThat(m.entries()).containsExactly(Entry.empty(1, 1)));
  }

  // §5.2: a leader sends heartbeats every heartbeat interval to keep its authority.
  @Test
  void leaderSendsHeartbeatEveryHeartbeatTick() {
    Raft r = newRaft(config(1).electionTick(10).heartbeatTick(3), MemoryStorage.withVoters(1L, 2L, 3L));
    leader(r);
    drain(r);
    r.tick();
    r.tick();
    assertThat(ofType(drain(r), MessageType.HEARTBEAT)).isEmpty();

    r.tick();

    List<Message> hbs = ofType(drain(r), MessageType.HEARTBEAT);
    assertThat(hbs).extracting(Message::to).containsExactlyInAnyOrder(2L, 3L);
    assertThat(hbs).extracting(Message::term).containsOnly(1L);
  }

  // §5.2: a split vote elects nobody; randomized timeouts then elect one leader.
  @Test
  void splitVoteElectsNobodyAndANewElectionFollowsTheTimeout() {
    Network net = Network.of(3);
    for (long id = 1; id <= 3; id++) {
      net.node(id).campaign();
    }
    net.stabilize();

    for (long id = 1; id <= 3; id++) {
      Raft r = net.raft(id);
      assertThat(r.state).as("node %d", id).isEqualTo(StateType.FOLLOWER);
      assertThat(r.term).isEqualTo(1);
      assertThat(r.vote).as("each voted for itself").isEqualTo(id);
      assertThat(r.lead).isEqualTo(Raft.NONE);
    }
    assertThat(net.leader()).isZero();
    assertThat(net.delivered).filteredOn(m -> m.type() == MessageType.VOTE_RESP)
        .hasSize(6)
        .allMatch(Message::reject);

    long leader = tickUntilLeader(net, 40);

    assertThat(leader).isNotZero();
    assertThat(net.raft(leader).term).isGreaterThan(1);
    for (long id = 1; id <= 3; id++) {
      assertThat(net.raft(id).term).isEqualTo(net.raft(leader).term);
      assertThat(net.raft(id).lead).isEqualTo(leader);
    }
  }

  // §5.2: each server votes for at most one candidate in a term, first come first served.
  @Test
  void followerVotesForAtMostOneCandidatePerTerm() {
    Raft r = newRaft(1, 1L, 2L, 3L);

    r.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));
    r.step(vote(MessageType.VOTE, 3, 1, 1, 0, 0));

    List<Message> resps = drain(r);
    assertThat(resps).extracting(Message::type).containsOnly(MessageType.VOTE_RESP);
    assertThat(resps).extracting(Message::to, Message::reject, Message::term)
        .containsExactly(
            tuple(2L, false, 1L),
            tuple(3L, true, 1L));
    assertThat(r.vote).isEqualTo(2);
  }

  // §5.2: a vote is idempotent: the same candidate asking again is granted again.
  @Test
  void repeatedVoteRequestFromTheSameCandidateIsGrantedAgain() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));
    drain(r);

    r.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));

    List<Message> resps = drain(r);
    assertThat(resps).hasSize(1);
    assertThat(resps.get(0).reject()).isFalse();
    assertThat(resps.get(0).to()).isEqualTo(2);
    assertThat(r.vote).isEqualTo(2);
  }

  // §5.2: a candidate has voted for itself, so it rejects other candidates of its term.
  @Test
  void candidateRejectsOtherCandidatesOfItsTerm() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(hup(1));
    drain(r);

    r.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));

    List<Message> resps = drain(r);
    assertThat(resps).singleElement().satisfies(m -> {
      assertThat(m.type()).isEqualTo(MessageType.VOTE_RESP);
      assertThat(m.reject()).isTrue();
    });
    assertThat(r.vote).isEqualTo(1);
    assertThat(r.state).isEqualTo(StateType.CANDIDATE);
  }

  // §5.2: a candidate that gets an append of its own term recognizes the leader.
  @Test
  void candidateFallsBackToFollowerOnAppendOfItsTerm() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(hup(1));
    drain(r);

    r.step(app(2, 1, 1, 0, 0, 0, entries(1, 1)));

    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.term).isEqualTo(1);
    assertThat(r.lead).isEqualTo(2);
    assertThat(r.raftLog.lastIndex()).isEqualTo(1);
    assertThat(drain(r)).singleElement().satisfies(m -> {
      assertThat(m.type()).isEqualTo(MessageType.APP_RESP);
      assertThat(m.reject()).isFalse();
      assertThat(m.index()).isEqualTo(1);
    });
  }

  // §5.2: the same holds for a heartbeat of the candidate's term.
  @Test
  void candidateFallsBackToFollowerOnHeartbeatOfItsTerm() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(hup(1));
    drain(r);

    r.step(heartbeat(3, 1, 1, 0));

    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.term).isEqualTo(1);
    assertThat(r.lead).isEqualTo(3);
  }

  // §5.4.1: a vote needs a log at least as up to date (last term, then last index).
  @Test
  void voterGrantsOnlyCandidatesWithLogsAtLeastAsUpToDate() {
    long[][] cases = {
        // candidate lastTerm, lastIndex, 1 = granted
        {2, 2, 1}, {2, 3, 1}, {2, 1, 0}, {1, 5, 0}, {3, 1, 1},
    };
    for (long[] c : cases) {
      Raft r = newRaft(config(1), storage(new long[] {1, 2}, 2, 0, 1L, 2L, 3L));
      r.step(vote(MessageType.VOTE, 2, 1, 3, c[1], c[0]));
      List<Message> resps = drain(r);
      assertThat(resps).as("candidate last (%d, %d)", c[0], c[1]).singleElement()
          .satisfies(m -> assertThat(m.reject()).isEqualTo(c[2] == 0));
      assertThat(r.vote).isEqualTo(c[2] == 1 ? 2 : Raft.NONE);
      assertThat(r.term).isEqualTo(3);
    }
  }

  // §5.2 with a network: one campaign wins in one round and every member follows the winner.
  @Test
  void campaignWinsInOneRoundAndEveryoneFollows() {
    Network net = Network.of(5);
    net.campaign(3);

    assertThat(net.leader()).isEqualTo(3);
    for (long id = 1; id <= 5; id++) {
      assertThat(net.raft(id).term).isEqualTo(1);
      assertThat(net.raft(id).lead).isEqualTo(3);
      assertThat(net.raft(id).raftLog.committed).isEqualTo(1);
    }
    List<Message> votes = new ArrayList<>(net.delivered.stream()
        .filter(m -> m.type() == MessageType.VOTE).toList());
    assertThat(votes).hasSize(4).allMatch(m -> m.from() == 3 && m.term() == 1);
  }

  // §5.2 with a network: a candidate whose log is behind a majority loses and the term moves on.
  @Test
  void campaignWithStaleLogLosesInOneRound() {
    Network net = Network.of(3);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, "x");
    net.recover();

    net.campaign(3);

    assertThat(net.raft(3).state).isEqualTo(StateType.FOLLOWER);
    assertThat(net.raft(3).term).isEqualTo(2);
    assertThat(net.delivered).filteredOn(m -> m.type() == MessageType.VOTE_RESP && m.to() == 3)
        .hasSize(2)
        .allMatch(Message::reject);
  }
  // Thesis §4.1 (etcd hup): no campaign while a committed conf change is unapplied.
  @Test
  void nodeWithUnappliedConfChangeDoesNotCampaign() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    Entry cc = new Entry(1, 2, EntryType.CONF_CHANGE, ConfChange.addLearner(4).encode());
    s.append(List.of(Entry.empty(1, 1), cc));
    s.setHardState(new HardState(1, 0, 2));
    Raft r = newRaft(config(1), s);

    for (int i = 0; i < 30; i++) {
      r.tick();
    }
    assertThat(r.state).isEqualTo(StateType.FOLLOWER);
    assertThat(r.term).isEqualTo(1);
    assertThat(drain(r)).isEmpty();

    r.raftLog.appliedTo(2);
    for (int i = 0; i < 10; i++) {
      r.tick();
    }
    assertThat(r.state).isEqualTo(StateType.CANDIDATE);
    assertThat(r.term).isEqualTo(2);
  }

  // §5.2: a candidate knows no leader, so it refuses proposals (typed) rather than losing them.
  @Test
  void candidateRefusesProposals() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(hup(1));

    assertThatThrownBy(() -> r.step(RaftFixtures.propose(1, "x")))
        .isInstanceOfSatisfying(ProposalDroppedException.class,
            e -> assertThat(e.reason()).isEqualTo(ProposalDroppedException.Reason.NO_LEADER));
    assertThat(r.raftLog.lastIndex()).isZero();
  }
  // §5.2, Ready contract: the vote is sent only after it is persisted, so it survives a restart.
  @Test
  void oneVotePerTermSurvivesARestart() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    RawNode n = new RawNode(config(1).build(), s);
    n.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));
    Ready rd = n.ready();
    assertThat(rd.messages()).isEmpty();
    assertThat(rd.persistedMessages()).singleElement().satisfies(m -> assertThat(m.reject()).isFalse());
    assertThat(rd.hardState()).isEqualTo(new HardState(1, 2, 0));
    s.setHardState(rd.hardState());
    n.advance(rd);

    RawNode restarted = new RawNode(config(1).build(), s);
    restarted.step(vote(MessageType.VOTE, 3, 1, 1, 0, 0));
    restarted.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));

    assertThat(restarted.raft().vote).isEqualTo(2);
    assertThat(restarted.ready().persistedMessages()).extracting(Message::to, Message::reject)
        .containsExactly(tuple(3L, true), tuple(2L, false));
  }
}
