package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.app;
import static io.flotilla.engine.raft.RaftFixtures.appResp;
import static io.flotilla.engine.raft.RaftFixtures.appliedData;
import static io.flotilla.engine.raft.RaftFixtures.concat;
import static io.flotilla.engine.raft.RaftFixtures.config;
import static io.flotilla.engine.raft.RaftFixtures.drain;
import static io.flotilla.engine.raft.RaftFixtures.entries;
import static io.flotilla.engine.raft.RaftFixtures.leader;
import static io.flotilla.engine.raft.RaftFixtures.newRaft;
import static io.flotilla.engine.raft.RaftFixtures.ofType;
import static io.flotilla.engine.raft.RaftFixtures.persist;
import static io.flotilla.engine.raft.RaftFixtures.propose;
import static io.flotilla.engine.raft.RaftFixtures.repeat;
import static io.flotilla.engine.raft.RaftFixtures.storage;
import static io.flotilla.engine.raft.RaftFixtures.terms;
import static io.flotilla.engine.raft.RaftFixtures.voteResp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Log replication and commitment, Raft paper §5.3 and §5.4.2, and the Ready contract. */
class RaftReplicationTest {

  // §5.3: the leader appends a proposal in its term and sends it with the previous index and term.
  @Test
  void leaderAppendsProposalToItsLogAndSendsItToFollowers() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    Raft r = leader(newRaft(config(1), s));
    persist(r, s);
    r.trk.visit((id, pr) -> {
      if (id != 1) {
        pr.setMatch(1);
        pr.becomeReplicate();
      }
    });
    drain(r);

    r.step(propose(1, "x"));

    assertThat(r.raftLog.lastIndex()).isEqualTo(2);
    assertThat(r.raftLog.term(2)).isEqualTo(1);
    List<Message> apps = ofType(drain(r), MessageType.APP);
    assertThat(apps).extracting(Message::to).containsExactlyInAnyOrder(2L, 3L);
    assertThat(apps).allSatisfy(m -> {
      assertThat(m.term()).isEqualTo(1);
      assertThat(m.index()).as("previous index").isEqualTo(1);
      assertThat(m.logTerm()).as("previous term").isEqualTo(1);
      assertThat(m.entries()).extracting(Entry::index, Entry::term)
          .containsExactly(tuple(2L, 1L));
      assertThat(RaftFixtures.string(m.entries().get(0).data())).isEqualTo("x");
    });
  }

  // §5.3, thesis §10.2.1: commit on a majority; the leader's copy counts once persisted.
  @Test
  void leaderCommitsOnMajorityCountingItsOwnEntryOnlyOncePersisted() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    Raft r = leader(newRaft(config(1), s));
    r.step(propose(1, "x"));
    drain(r);

    r.step(appResp(2, 1, 1, 2));
    assertThat(r.raftLog.committed).as("one follower, leader not persisted").isZero();

    persist(r, s);

    assertThat(r.raftLog.committed).isEqualTo(2);
    assertThat(ofType(drain(r), MessageType.APP)).as("the new commit index is sent")
        .extracting(Message::to, Message::commit)
        .contains(tuple(2L, 2L));
  }

  // §5.3: a follower commits min(leaderCommit, last entry of the append), never backwards.
  @Test
  void followerCommitsUpToLeadersCommitWithinTheAppend() {
    Raft r = newRaft(1, 1L, 2L, 3L);

    r.step(app(2, 1, 1, 0, 0, 1, entries(1, 1, 1)));
    assertThat(r.raftLog.committed).isEqualTo(1);
    r.step(app(2, 1, 1, 2, 1, 2, List.of()));
    assertThat(r.raftLog.committed).isEqualTo(2);
    r.step(app(2, 1, 1, 1, 1, 5, List.of()));
    assertThat(r.raftLog.committed).as("never past the matched prefix, never back").isEqualTo(2);
  }

  // §5.3: the consistency check refuses an append whose previous entry does not match.
  @Test
  void followerRejectsAppendWhosePreviousEntryDoesNotMatch() {
    Raft r = newRaft(config(1), storage(new long[] {1, 1, 2}, 2, 0, 1L, 2L, 3L));

    r.step(app(2, 1, 3, 3, 3, 0, entries(4, 3)));
    r.step(app(2, 1, 3, 5, 3, 0, entries(6, 3)));

    List<Message> resps = drain(r);
    assertThat(resps)
        .extracting(Message::type, Message::reject, Message::index, Message::rejectHint, Message::logTerm)
        .containsExactly(
            tuple(MessageType.APP_RESP, true, 3L, 3L, 2L),
            tuple(MessageType.APP_RESP, true, 5L, 3L, 2L));
    assertThat(r.raftLog.lastIndex()).isEqualTo(3);
  }

  // §5.3: a conflicting entry and all after it are deleted; matching ones are kept.
  @Test
  void followerDeletesConflictingSuffixButKeepsMatchingEntries() {
    MemoryStorage s = storage(new long[] {1, 1, 2, 2, 2}, 2, 0, 1L, 2L, 3L);
    Raft r = newRaft(config(1), s);

    r.step(app(2, 1, 3, 1, 1, 0, entries(2, 1)));
    assertThat(terms(r)).as("a matching prefix changes nothing").containsExactly(1L, 1L, 2L, 2L, 2L);

    r.step(app(2, 1, 3, 2, 1, 0, entries(3, 3)));
    persist(r, s);

    assertThat(terms(r)).containsExactly(1L, 1L, 3L);
    assertThat(terms(s)).as("the storage drops the suffix too").containsExactly(1L, 1L, 3L);
    assertThat(drain(r)).extracting(Message::index, Message::reject)
        .containsExactly(tuple(2L, false), tuple(3L, false));
  }

  // §5.3: commit reaches followers that missed the append carrying it, via the next heartbeat.
  @Test
  void commitPropagatesToFollowersByAppendAndByHeartbeat() {
    Network net = Network.of(3);
    net.campaign(1);
    net.dropFilter = m -> m.type() == MessageType.APP && m.to() == 3 && m.entries().isEmpty();

    net.propose(1, "x");

    assertThat(net.raft(1).raftLog.committed).isEqualTo(2);
    assertThat(net.raft(2).raftLog.committed).as("2 learned it from the append").isEqualTo(2);
    assertThat(net.raft(3).raftLog.lastIndex()).isEqualTo(2);
    assertThat(net.raft(3).raftLog.committed).as("3 missed the commit-carrying append").isEqualTo(1);

    net.recover();
    net.tick(1, 1);
    net.stabilize();

    assertThat(net.delivered)
        .anyMatch(m -> m.type() == MessageType.HEARTBEAT && m.to() == 3 && m.commit() == 2);
    assertThat(net.raft(3).raftLog.committed).isEqualTo(2);
    assertThat(appliedData(net, 3)).containsExactly("x");
  }

  // §5.3 Figure 7: whatever the followers' logs, the leader makes them duplicate its own.
  @Test
  void figure7DivergentLogsConvergeToTheLeadersLog() {
    long[] leader = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
    long[][] followers = {
        {1, 1, 1, 4, 4, 5, 5, 6, 6},             // (a) missing one entry
        {1, 1, 1, 4},                            // (b) missing many
        {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},       // (c) one extra uncommitted entry
        {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},    // (d) extra entries of a later term
        {1, 1, 1, 4, 4, 4, 4},                   // (e) missing and extra
        {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},       // (f) conflicting terms 2 and 3
    };
    Long[] voters = {1L, 2L, 3L, 4L, 5L, 6L, 7L};
    Network net = Network.of(7);
    net.add(1, storage(leader, 7, 0, voters));
    for (int i = 0; i < followers.length; i++) {
      net.add(i + 2, storage(followers[i], 7, 0, voters));
    }

    net.campaign(1);

    assertThat(net.leader()).isEqualTo(1);
    assertThat(net.raft(1).term).isEqualTo(8);
    List<Long> expected = List.of(1L, 1L, 1L, 4L, 4L, 5L, 5L, 6L, 6L, 6L, 8L);
    for (long id = 1; id <= 7; id++) {
      assertThat(terms(net.storages.get(id))).as("log of %d", id).isEqualTo(expected);
      assertThat(net.raft(id).raftLog.committed).as("commit of %d", id).isEqualTo(11);
    }
    for (long id = 2; id <= 7; id++) {
      long from = id;
      long rejections = net.delivered.stream()
          .filter(m -> m.type() == MessageType.APP_RESP && m.from() == from && m.reject())
          .count();
      assertThat(rejections).as("round trips lost repairing %d", id).isLessThanOrEqualTo(2);
    }
  }

  // §5.4.2 Figure 8: older-term entries commit only through an entry of the leader's term.
  @Test
  void figure8LeaderCommitsOlderTermEntriesOnlyThroughAnEntryOfItsOwnTerm() {
    Long[] voters = {1L, 2L, 3L, 4L, 5L};
    Network net = Network.of(5);
    net.add(1, storage(new long[] {1, 2}, 3, 1, voters));
    net.add(2, storage(new long[] {1, 2}, 3, 1, voters));
    net.add(3, storage(new long[] {1}, 3, 1, voters));
    net.add(4, storage(new long[] {1}, 3, 1, voters));
    net.add(5, storage(new long[] {1, 3}, 3, 1, voters));
    // The network loses the new leader's own-term entries: only the term-2 entry gets through.
    net.perturb = batch -> batch.stream()
        .map(m -> m.type() != MessageType.APP ? m : m.toBuilder()
            .entries(m.entries().stream().filter(e -> e.term() < 4).toList()).build())
        .toList();

    net.campaign(1);

    Raft r1 = net.raft(1);
    assertThat(r1.state).isEqualTo(StateType.LEADER);
    assertThat(r1.term).isEqualTo(4);
    for (long id = 2; id <= 5; id++) {
      assertThat(net.raft(id).raftLog.term(2)).as("index 2 on %d", id).isEqualTo(2);
      assertThat(net.raft(id).raftLog.committed).isEqualTo(1);
    }
    assertThat(r1.trk.committed()).as("a quorum holds index 2").isGreaterThanOrEqualTo(2);
    assertThat(r1.raftLog.committed).as("but index 2 is of term 2, not 4").isEqualTo(1);

    net.perturb = batch -> batch;
    net.tick(1, 1);
    net.stabilize();

    for (long id = 1; id <= 5; id++) {
      assertThat(terms(net.storages.get(id))).as("log of %d", id).containsExactly(1L, 2L, 4L);
      assertThat(net.raft(id).raftLog.committed).as("commit of %d", id).isEqualTo(3);
    }
  }

  // §5.3 (etcd fast backtracking): repair takes O(terms) round trips, not O(entries).
  @Test
  void divergentSuffixIsSkippedATermAtATimeNotAnEntryAtATime() {
    long[] leaderLog = concat(repeat(1, 5), repeat(6, 20), repeat(7, 20));
    long[] followerLog = concat(repeat(1, 5), repeat(2, 20), repeat(3, 20), repeat(4, 20), repeat(5, 20));
    long rejections = repairRejections(leaderLog, followerLog, 7);
    assertThat(rejections).isEqualTo(1);
  }

  // §5.3 (etcd stepLeader example): a higher-term divergent suffix costs two round trips.
  @Test
  void divergentSuffixOfHigherTermIsSkippedInTwoRoundTrips() {
    long[] leaderLog = concat(repeat(1, 1), repeat(2, 50), repeat(4, 50));
    long[] followerLog = concat(repeat(1, 1), repeat(3, 50));
    long rejections = repairRejections(leaderLog, followerLog, 4);
    assertThat(rejections).isEqualTo(2);
  }

  /** Elects node 1 (log {@code leaderLog}) and returns how many appends node 2 rejected. */
  private static long repairRejections(long[] leaderLog, long[] followerLog, long term) {
    Network net = Network.of(3);
    net.add(1, storage(leaderLog, term, 0, 1L, 2L, 3L));
    net.add(2, storage(followerLog, term, 0, 1L, 2L, 3L));
    net.add(3, storage(new long[] {1}, term, 0, 1L, 2L, 3L));

    net.campaign(1);

    assertThat(net.leader()).isEqualTo(1);
    assertThat(terms(net.storages.get(2L))).isEqualTo(terms(net.storages.get(1L)));
    assertThat(net.raft(2).raftLog.committed).isEqualTo(leaderLog.length + 1);
    return net.delivered.stream()
        .filter(m -> m.type() == MessageType.APP_RESP && m.from() == 2 && m.reject())
        .count();
  }

  // Ready contract: a follower's ack goes only in persistedMessages.
  @Test
  void followerAcknowledgesAnAppendOnlyAfterPersistingIt() {
    RawNode n = new RawNode(config(2).build(), MemoryStorage.withVoters(1L, 2L, 3L));

    n.step(app(1, 2, 1, 0, 0, 0, entries(1, 1)));
    Ready rd = n.ready();

    assertThat(rd.entries()).containsExactly(Entry.empty(1, 1));
    assertThat(rd.mustSync()).isTrue();
    assertThat(rd.messages()).isEmpty();
    assertThat(rd.persistedMessages()).singleElement().satisfies(m -> {
      assertThat(m.type()).isEqualTo(MessageType.APP_RESP);
      assertThat(m.index()).isEqualTo(1);
    });
  }

  // Thesis §10.2.1: appends go before the leader's write; it counts itself on advance.
  @Test
  void leaderSendsAppendsBeforePersistingAndCountsItselfOnAdvance() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L);
    RawNode n = new RawNode(config(1).build(), s);
    n.campaign();
    Ready rd = n.ready();
    assertThat(rd.persistedMessages()).extracting(Message::type).containsExactly(MessageType.VOTE);
    s.setHardState(rd.hardState());
    n.advance(rd);
    n.step(voteResp(2, 1, 1, false));
    assertThat(n.raft().state).isEqualTo(StateType.LEADER);

    rd = n.ready();
    assertThat(rd.entries()).containsExactly(Entry.empty(1, 1));
    assertThat(rd.messages()).extracting(Message::type).containsExactly(MessageType.APP);
    n.step(appResp(2, 1, 1, 1));
    assertThat(n.raft().raftLog.committed).as("the leader's entry is not persisted yet").isZero();

    s.append(rd.entries());
    n.advance(rd);

    assertThat(n.raft().raftLog.committed).isEqualTo(1);
  }

  // §5.3: a late duplicate append never truncates entries the follower already has.
  @Test
  void staleDuplicateAppendDoesNotTruncateTheFollowersLog() {
    Raft r = newRaft(1, 1L, 2L, 3L);
    r.step(app(2, 1, 1, 0, 0, 0, entries(1, 1, 1, 1)));
    drain(r);

    r.step(app(2, 1, 1, 0, 0, 0, entries(1, 1)));

    assertThat(r.raftLog.lastIndex()).isEqualTo(3);
    assertThat(drain(r)).singleElement().satisfies(m -> {
      assertThat(m.reject()).isFalse();
      assertThat(m.index()).isEqualTo(1);
    });
  }

  // §5.3: late acks and rejections do not move a follower's progress back.
  @Test
  void lateAppendResponsesDoNotMoveProgressBackwards() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    Raft r = leader(newRaft(config(1), s));
    for (int i = 0; i < 4; i++) {
      r.step(propose(1, "e" + i));
    }
    persist(r, s);
    r.step(appResp(2, 1, 1, 5));
    var pr = r.trk.get(2);
    assertThat(pr.match()).isEqualTo(5);
    drain(r);
    long next = pr.next();

    r.step(appResp(2, 1, 1, 3));
    r.step(Message.builder(MessageType.APP_RESP).from(2).to(1).term(1).index(4)
        .reject(true).rejectHint(3).build());

    assertThat(pr.match()).isEqualTo(5);
    assertThat(pr.next()).isEqualTo(next);
    assertThat(ofType(drain(r), MessageType.APP)).isEmpty();
  }

  // §5.3: shuffled, delayed and duplicated messages still yield one log and the same commits.
  @Test
  void reorderedAndDuplicatedMessagesStillConverge() {
    Network net = Network.of(3);
    net.campaign(1);
    Random rnd = new Random(11);
    List<Message> late = new ArrayList<>();
    int[] rounds = {0};
    net.perturb = batch -> {
      if (rounds[0]++ > 200) {
        List<Message> out = new ArrayList<>(late);
        late.clear();
        out.addAll(batch);
        return out;
      }
      List<Message> out = new ArrayList<>();
      if (batch.isEmpty() || rnd.nextBoolean()) {
        out.addAll(late);
        late.clear();
      }
      for (Message m : batch) {
        boolean replicationMsg = m.type() == MessageType.APP || m.type() == MessageType.APP_RESP;
        if (replicationMsg && rnd.nextInt(3) == 0) {
          late.add(m);
          continue;
        }
        out.add(m);
        if (replicationMsg && rnd.nextInt(3) == 0) {
          out.add(m);
        }
      }
      java.util.Collections.shuffle(out, rnd);
      return out;
    };

    for (int i = 0; i < 5; i++) {
      net.node(1).propose(RaftFixtures.bytes("l" + i));
    }
    net.node(2).propose(RaftFixtures.bytes("f0"));
    net.node(3).propose(RaftFixtures.bytes("f1"));
    net.stabilize();
    for (int i = 5; i < 8; i++) {
      net.node(1).propose(RaftFixtures.bytes("l" + i));
      net.stabilize();
    }
    net.perturb = batch -> batch;
    net.tickAll(3);

    assertThat(net.leader()).isEqualTo(1);
    List<String> committed = appliedData(net, 1);
    assertThat(committed).hasSize(10)
        .containsExactlyInAnyOrder("l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "f0", "f1");
    for (long id = 1; id <= 3; id++) {
      Raft r = net.raft(id);
      assertThat(r.raftLog.committed).isEqualTo(net.raft(1).raftLog.lastIndex());
      assertThat(terms(net.storages.get(id))).isEqualTo(terms(net.storages.get(1L)));
      assertThat(appliedData(net, id)).as("applied on %d", id).isEqualTo(committed);
    }
  }
}
