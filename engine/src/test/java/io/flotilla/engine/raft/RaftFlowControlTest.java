package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.appResp;
import static io.flotilla.engine.raft.RaftFixtures.appliedData;
import static io.flotilla.engine.raft.RaftFixtures.bytes;
import static io.flotilla.engine.raft.RaftFixtures.config;
import static io.flotilla.engine.raft.RaftFixtures.drain;
import static io.flotilla.engine.raft.RaftFixtures.leader;
import static io.flotilla.engine.raft.RaftFixtures.newRaft;
import static io.flotilla.engine.raft.RaftFixtures.ofType;
import static io.flotilla.engine.raft.RaftFixtures.propose;
import static io.flotilla.engine.raft.RaftFixtures.terms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.tracker.Progress;
import io.flotilla.engine.raft.tracker.ProgressState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-follower flow control: probe/replicate, the in-flight window, message and uncommitted size limits. */
class RaftFlowControlTest {

  /** Leader 1 of {1, 2} with 2 in replicate state and an empty window; nothing queued. */
  private static Raft leaderReplicatingTo2(Config.Builder c) {
    Raft r = leader(newRaft(c, MemoryStorage.withVoters(1L, 2L)));
    r.trk.get(2).becomeReplicate();
    drain(r);
    return r;
  }

  // etcd TestMsgAppFlowControlFull: replicate streams until maxInflightMsgs are unacked.
  @Test
  void inflightWindowPausesReplicationWhenFull() {
    Raft r = leaderReplicatingTo2(config(1).maxInflightMsgs(3));
    Progress p2 = r.trk.get(2);

    for (int i = 0; i < 3; i++) {
      r.step(propose(1, "e" + i));
      assertThat(ofType(drain(r), MessageType.APP)).as("append %d", i).hasSize(1);
    }
    assertThat(p2.inflights().full()).isTrue();
    assertThat(p2.isPaused()).isTrue();

    for (int i = 3; i < 6; i++) {
      r.step(propose(1, "e" + i));
      assertThat(ofType(drain(r), MessageType.APP)).as("append %d", i).isEmpty();
    }
    assertThat(r.raftLog.lastIndex()).as("proposals are still appended").isEqualTo(7);
  }

  // etcd TestMsgAppFlowControlMoveForward: acks free the window and replication resumes.
  @Test
  void inflightWindowResumesAsAcknowledgementsFreeIt() {
    Raft r = leaderReplicatingTo2(config(1).maxInflightMsgs(2));
    Progress p2 = r.trk.get(2);
    r.step(propose(1, "a"));
    r.step(propose(1, "b"));
    List<Message> first = ofType(drain(r), MessageType.APP);
    assertThat(first).hasSize(2);
    r.step(propose(1, "c"));
    r.step(propose(1, "d"));
    assertThat(ofType(drain(r), MessageType.APP)).isEmpty();

    long firstLast = lastIndex(first.get(0));
    r.step(appResp(2, 1, 1, firstLast));

    List<Message> resumed = ofType(drain(r), MessageType.APP);
    assertThat(resumed).as("one slot freed: one append with everything held back").hasSize(1);
    assertThat(resumed.get(0).index()).isEqualTo(lastIndex(first.get(1)));
    assertThat(resumed.get(0).entries()).extracting(e -> RaftFixtures.string(e.data()))
        .containsExactly("c", "d");
    assertThat(p2.inflights().count()).isEqualTo(2);
    assertThat(p2.match()).isEqualTo(firstLast);

    r.step(appResp(2, 1, 1, r.raftLog.lastIndex()));
    assertThat(p2.inflights().count()).as("one ack frees every append it covers").isZero();
    assertThat(p2.isPaused()).isFalse();
  }

  private static long lastIndex(Message app) {
    return app.entries().get(app.entries().size() - 1).index();
  }

  // etcd MsgHeartbeatResp: a window full of lost appends recovers at the next heartbeat.
  @Test
  void fullInflightWindowRecoversWhenItsAppendsWereLost() {
    Network net = Network.of(3, b -> b.maxInflightMsgs(2));
    net.campaign(1);
    net.dropFilter = m -> m.type() == MessageType.APP && m.to() == 2;
    for (int i = 0; i < 4; i++) {
      net.propose(1, "w" + i);
    }
    Progress p2 = net.raft(1).trk.get(2);
    assertThat(p2.state()).isEqualTo(ProgressState.REPLICATE);
    assertThat(p2.inflights().full()).isTrue();
    assertThat(net.raft(2).raftLog.lastIndex()).isEqualTo(1);

    net.dropFilter = m -> false;
    net.tickAll(1);

    assertThat(net.raft(2).raftLog.lastIndex()).isEqualTo(net.raft(1).raftLog.lastIndex());
    assertThat(appliedData(net, 2)).containsExactly("w0", "w1", "w2", "w3");
  }

  // etcd TestMsgAppFlowControl: in probe, one append per answer or heartbeat response.
  @Test
  void probeSendsOneAppendPerAnswer() {
    Raft r = leader(newRaft(config(1), MemoryStorage.withVoters(1L, 2L)));
    drain(r);
    Progress p2 = r.trk.get(2);
    assertThat(p2.state()).isEqualTo(ProgressState.PROBE);

    r.step(propose(1, "a"));
    r.step(propose(1, "b"));
    assertThat(ofType(drain(r), MessageType.APP)).hasSize(1);
    assertThat(p2.isPaused()).isTrue();

    r.step(Message.builder(MessageType.HEARTBEAT_RESP).from(2).to(1).term(1).build());
    assertThat(ofType(drain(r), MessageType.APP)).as("a heartbeat response unpauses the probe").hasSize(1);

    r.step(appResp(2, 1, 1, r.raftLog.lastIndex()));
    assertThat(p2.state()).as("an accepted probe switches to replicate").isEqualTo(ProgressState.REPLICATE);
  }

  // maxSizePerMsg caps an append's entry bytes (one entry always goes).
  @Test
  void maxSizePerMsgSplitsAppends() {
    Network net = Network.of(3, b -> b.maxSizePerMsg(150));
    net.campaign(1);
    net.isolate(3);
    for (int i = 0; i < 6; i++) {
      net.propose(1, "x".repeat(40) + i);
    }
    net.recover();
    int before = net.delivered.size();

    net.tick(1, 1);
    net.stabilize();

    List<Message> apps = net.delivered.subList(before, net.delivered.size()).stream()
        .filter(m -> m.type() == MessageType.APP && m.to() == 3 && !m.entries().isEmpty())
        .toList();
    assertThat(apps).hasSizeGreaterThanOrEqualTo(3);
    assertThat(apps).allSatisfy(m -> {
      assertThat(m.entries()).hasSizeLessThanOrEqualTo(2);
      assertThat(m.entriesSize()).isLessThanOrEqualTo(150);
    });
    assertThat(terms(net.storages.get(3L))).isEqualTo(terms(net.storages.get(1L)));
    assertThat(appliedData(net, 3)).hasSize(6);
  }

  // maxUncommittedEntriesSize refuses proposals (typed) until commits free room.
  @Test
  void uncommittedLimitRefusesProposalsUntilEntriesCommit() {
    Network net = Network.of(3, b -> b.maxUncommittedEntriesSize(100));
    net.campaign(1);
    net.cut(1, 2);
    net.cut(1, 3);
    byte[] sixty = bytes("y".repeat(60));

    net.node(1).propose(sixty);
    long last = net.raft(1).raftLog.lastIndex();
    assertThatThrownBy(() -> net.node(1).propose(sixty))
        .isInstanceOfSatisfying(ProposalDroppedException.class,
            e -> assertThat(e.reason()).isEqualTo(ProposalDroppedException.Reason.UNCOMMITTED_LIMIT));
    assertThat(net.raft(1).raftLog.lastIndex()).isEqualTo(last);
    net.node(1).propose(bytes("y".repeat(40)));
    net.stabilize();

    net.recover();
    net.tick(1, 1);
    net.stabilize();
    assertThat(net.raft(1).raftLog.committed).isEqualTo(net.raft(1).raftLog.lastIndex());
    assertThat(net.raft(1).uncommittedSize).isZero();

    net.node(1).propose(sixty);
    net.node(1).propose(bytes("z".repeat(40)));
    net.stabilize();
    assertThat(appliedData(net, 1)).hasSize(4);
  }

  // The driver reporting a peer unreachable sends the leader back to probing it.
  @Test
  void unreachableFollowerIsProbedAgain() {
    Network net = Network.of(3);
    net.campaign(1);
    Progress p2 = net.raft(1).trk.get(2);
    assertThat(p2.state()).isEqualTo(ProgressState.REPLICATE);

    net.node(1).reportUnreachable(2);

    assertThat(p2.state()).isEqualTo(ProgressState.PROBE);
    assertThat(p2.next()).isEqualTo(p2.match() + 1);
    net.propose(1, "x");
    assertThat(p2.state()).isEqualTo(ProgressState.REPLICATE);
    assertThat(appliedData(net, 2)).containsExactly("x");
  }
}
