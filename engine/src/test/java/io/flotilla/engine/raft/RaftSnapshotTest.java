package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.appliedData;
import static io.flotilla.engine.raft.RaftFixtures.bytes;
import static io.flotilla.engine.raft.RaftFixtures.config;
import static io.flotilla.engine.raft.RaftFixtures.drain;
import static io.flotilla.engine.raft.RaftFixtures.entries;
import static io.flotilla.engine.raft.RaftFixtures.newRaft;
import static io.flotilla.engine.raft.RaftFixtures.storage;
import static io.flotilla.engine.raft.RaftFixtures.terms;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.raft.tracker.Progress;
import io.flotilla.engine.raft.tracker.ProgressState;
import org.junit.jupiter.api.Test;

/** Log compaction and snapshots (Raft paper §7). */
class RaftSnapshotTest {

  /** Leader 1 commits ten writes while 3 is away, then snapshots and compacts its log. */
  private static long compactWhile3IsAway(Network net) {
    net.campaign(1);
    net.isolate(3);
    for (int i = 0; i < 10; i++) {
      net.propose(1, "w" + i);
    }
    Raft r1 = net.raft(1);
    long snapIndex = r1.raftLog.applied;
    MemoryStorage s1 = net.storages.get(1L);
    s1.createSnapshot(snapIndex, r1.trk.confState(), bytes("state@" + snapIndex));
    s1.compact(snapIndex);
    assertThat(r1.raftLog.firstIndex()).isEqualTo(snapIndex + 1);
    net.propose(1, "after");
    net.recover();
    return snapIndex;
  }

  private static Snapshot snapshotSentTo3(Network net) {
    return net.delivered.stream()
        .filter(m -> m.type() == MessageType.SNAPSHOT && m.to() == 3)
        .reduce((a, b) -> b)
        .orElseThrow()
        .snapshot();
  }

  // §7: a follower behind the compaction point gets the snapshot, then the entries after it.
  @Test
  void followerBehindCompactionCatchesUpBySnapshot() {
    Network net = Network.of(3);
    long snapIndex = compactWhile3IsAway(net);

    net.tick(1, 1);
    net.stabilize();

    Snapshot sent = snapshotSentTo3(net);
    assertThat(sent.index()).isEqualTo(snapIndex);
    assertThat(RaftFixtures.string(sent.data())).isEqualTo("state@" + snapIndex);
    assertThat(sent.metadata().confState().voters()).containsExactly(1L, 2L, 3L);
    MemoryStorage s3 = net.storages.get(3L);
    assertThat(s3.snapshot().index()).isEqualTo(snapIndex);
    assertThat(s3.firstIndex()).isEqualTo(snapIndex + 1);
    assertThat(terms(s3)).isEqualTo(terms(net.storages.get(1L)));
    Raft r1 = net.raft(1);
    assertThat(net.raft(3).raftLog.committed).isEqualTo(r1.raftLog.committed);
    assertThat(net.raft(3).raftLog.applied).isEqualTo(r1.raftLog.committed);
    assertThat(appliedData(net, 3)).as("the snapshot covers w0..w9").containsExactly("after");
    Progress p3 = r1.trk.get(3);
    assertThat(p3.state()).isEqualTo(ProgressState.REPLICATE);
    assertThat(p3.match()).isEqualTo(r1.raftLog.lastIndex());
  }

  // §7 (etcd MsgSnapStatus): a failed report probes from match, a success from the snapshot.
  @Test
  void reportSnapshotMovesTheFollowersProgressOutOfSnapshotState() {
    Network net = Network.of(3);
    long snapIndex = compactWhile3IsAway(net);
    Raft r1 = net.raft(1);
    Progress p3 = r1.trk.get(3);
    net.dropFilter = m -> m.type() == MessageType.SNAPSHOT;

    net.tick(1, 1);
    net.stabilize();
    assertThat(p3.state()).isEqualTo(ProgressState.SNAPSHOT);
    assertThat(p3.pendingSnapshot()).isEqualTo(snapIndex);
    assertThat(p3.isPaused()).isTrue();

    net.node(1).reportSnapshot(3, false);
    assertThat(p3.state()).isEqualTo(ProgressState.PROBE);
    assertThat(p3.pendingSnapshot()).isZero();
    assertThat(p3.next()).isEqualTo(p3.match() + 1);
    assertThat(p3.isPaused()).as("waits for a heartbeat before retrying").isTrue();
    net.stabilize();
    assertThat(r1.msgs).isEmpty();

    net.tick(1, 1);
    net.stabilize();
    assertThat(p3.state()).as("retried").isEqualTo(ProgressState.SNAPSHOT);

    net.node(1).reportSnapshot(3, true);
    assertThat(p3.state()).isEqualTo(ProgressState.PROBE);
    assertThat(p3.next()).isEqualTo(snapIndex + 1);
    assertThat(p3.isPaused()).isTrue();

    net.dropFilter = m -> false;
    net.tick(1, 1);
    net.stabilize();

    assertThat(net.storages.get(3L).snapshot().index()).isEqualTo(snapIndex);
    assertThat(p3.state()).isEqualTo(ProgressState.REPLICATE);
    assertThat(p3.match()).isEqualTo(r1.raftLog.lastIndex());
    assertThat(appliedData(net, 3)).containsExactly("after");
  }

  // §7: a report for a follower that is not in snapshot state changes nothing.
  @Test
  void reportSnapshotIsIgnoredOutsideSnapshotState() {
    Network net = Network.of(3);
    net.campaign(1);
    Progress p2 = net.raft(1).trk.get(2);
    ProgressState state = p2.state();
    long next = p2.next();

    net.node(1).reportSnapshot(2, false);

    assertThat(p2.state()).isEqualTo(state);
    assertThat(p2.next()).isEqualTo(next);
  }

  // §7: a snapshot of entries the follower holds only advances its commit index.
  @Test
  void snapshotOfEntriesTheFollowerHasOnlyAdvancesItsCommit() {
    Raft r = newRaft(config(1), storage(new long[] {1, 1, 1, 1}, 1, 0, 1L, 2L));
    Snapshot snap = new Snapshot(bytes("s"), new SnapshotMetadata(ConfState.ofVoters(1L, 2L), 2, 1));

    r.step(Message.builder(MessageType.SNAPSHOT).from(2).to(1).term(1).snapshot(snap).build());

    assertThat(r.raftLog.committed).isEqualTo(2);
    assertThat(r.raftLog.lastIndex()).isEqualTo(4);
    assertThat(r.raftLog.nextUnstableSnapshot()).isNull();
    assertThat(drain(r)).singleElement().satisfies(m -> {
      assertThat(m.type()).isEqualTo(MessageType.APP_RESP);
      assertThat(m.index()).isEqualTo(2);
    });
  }

  // §7: a snapshot older than the commit index is ignored and the answer says how far it is.
  @Test
  void snapshotOlderThanTheCommitIndexIsIgnored() {
    Raft r = newRaft(config(1), storage(new long[] {1, 1, 1}, 1, 3, 1L, 2L));
    Snapshot snap = new Snapshot(bytes("s"), new SnapshotMetadata(ConfState.ofVoters(1L, 2L), 2, 1));

    r.step(Message.builder(MessageType.SNAPSHOT).from(2).to(1).term(1).snapshot(snap).build());

    assertThat(r.raftLog.nextUnstableSnapshot()).isNull();
    assertThat(r.raftLog.committed).isEqualTo(3);
    assertThat(drain(r)).singleElement().satisfies(m -> assertThat(m.index()).isEqualTo(3));
  }

  // §7: an installed snapshot replaces the log and the membership, handed out in a Ready.
  @Test
  void installedSnapshotReplacesTheLogAndTheMembership() {
    MemoryStorage s = storage(new long[] {1, 1, 2}, 2, 1, 1L, 2L);
    RawNode n = new RawNode(config(1).build(), s);
    Snapshot snap = new Snapshot(bytes("s"), new SnapshotMetadata(ConfState.ofVoters(1L, 2L, 3L), 5, 3));

    n.step(Message.builder(MessageType.SNAPSHOT).from(2).to(1).term(3).snapshot(snap).build());
    Ready rd = n.ready();

    assertThat(rd.snapshot()).isEqualTo(snap);
    assertThat(rd.entries()).isEmpty();
    assertThat(rd.committedEntries()).isEmpty();
    assertThat(rd.hardState().commit()).isEqualTo(5);
    assertThat(rd.persistedMessages()).singleElement().satisfies(m -> assertThat(m.index()).isEqualTo(5));
    assertThat(n.status().confState().voters()).containsExactly(1L, 2L, 3L);
    s.applySnapshot(rd.snapshot());
    s.setHardState(rd.hardState());
    n.advance(rd);
    assertThat(n.status().applied()).isEqualTo(5);
    assertThat(n.raft().raftLog.lastIndex()).isEqualTo(5);
  }

  // §7: a node restarted from a snapshot hands out only entries after what it applied.
  @Test
  void restartFromSnapshotHandsOutOnlyEntriesAfterIt() {
    MemoryStorage s = new MemoryStorage();
    s.applySnapshot(new Snapshot(bytes("s"), new SnapshotMetadata(ConfState.ofVoters(1L, 2L), 10, 2)));
    s.append(entries(11, 2, 2));
    s.setHardState(new HardState(2, 1, 12));

    RawNode n = new RawNode(config(1).applied(10).build(), s);
    Ready rd = n.ready();

    assertThat(rd.committedEntries()).extracting(Entry::index).containsExactly(11L, 12L);
    assertThat(n.raft().term).isEqualTo(2);
    assertThat(n.raft().vote).isEqualTo(1);
    assertThat(n.status().confState().voters()).containsExactly(1L, 2L);
    assertThat(n.raft().raftLog.firstIndex()).isEqualTo(11);
    assertThat(n.raft().raftLog.lastIndex()).isEqualTo(12);
  }
  // §7: a new member with an empty storage joins after compaction and is caught up by snapshot.
  @Test
  void newMemberWithEmptyStorageIsCaughtUpBySnapshot() {
    Network net = Network.of(3);
    net.campaign(1);
    for (int i = 0; i < 5; i++) {
      net.propose(1, "w" + i);
    }
    net.addEmpty(4);
    net.node(1).proposeConfChange(ConfChange.addLearner(4));
    net.isolate(4);
    net.stabilize();
    Raft r1 = net.raft(1);
    long snapIndex = r1.raftLog.applied;
    MemoryStorage s1 = net.storages.get(1L);
    s1.createSnapshot(snapIndex, r1.trk.confState(), bytes("state"));
    s1.compact(snapIndex);
    net.recover();

    net.propose(1, "after");
    net.tick(1, 1);
    net.stabilize();

    Raft r4 = net.raft(4);
    assertThat(net.storages.get(4L).snapshot().index()).isEqualTo(snapIndex);
    assertThat(r4.isLearner).isTrue();
    assertThat(r4.trk.confState().voters()).containsExactly(1L, 2L, 3L);
    assertThat(r4.raftLog.committed).isEqualTo(r1.raftLog.committed);
    assertThat(appliedData(net, 4)).containsExactly("after");
    assertThat(r1.trk.get(4).match()).isEqualTo(r1.raftLog.lastIndex());
  }
  // §7: a member added after the leader's latest snapshot installs it; the entries after it add it.
  @Test
  void newMemberInstallsASnapshotThatPredatesItsAddition() {
    Network net = Network.of(3);
    net.campaign(1);
    for (int i = 0; i < 5; i++) {
      net.propose(1, "w" + i);
    }
    Raft r1 = net.raft(1);
    long snapIndex = r1.raftLog.applied;
    MemoryStorage s1 = net.storages.get(1L);
    s1.createSnapshot(snapIndex, r1.trk.confState(), bytes("state"));
    s1.compact(snapIndex);
    net.addEmpty(4);

    net.node(1).proposeConfChange(ConfChange.addLearner(4));
    net.stabilize();
    net.propose(1, "after");

    Snapshot sent = net.delivered.stream().filter(m -> m.type() == MessageType.SNAPSHOT && m.to() == 4)
        .findFirst().orElseThrow().snapshot();
    assertThat(sent.index()).isEqualTo(snapIndex);
    assertThat(sent.metadata().confState().learners()).as("the snapshot predates node 4").isEmpty();
    Raft r4 = net.raft(4);
    assertThat(r4.trk.confState().learners()).containsExactly(4L);
    assertThat(r4.isLearner).isTrue();
    assertThat(r4.raftLog.committed).isEqualTo(r1.raftLog.committed);
    assertThat(appliedData(net, 4)).containsExactly("after");
  }
}
