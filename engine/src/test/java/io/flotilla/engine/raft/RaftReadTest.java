package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.bytes;
import static io.flotilla.engine.raft.RaftFixtures.string;
import static io.flotilla.engine.raft.RaftFixtures.tickUntilLeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Linearizable reads without log entries: ReadIndex and lease reads (Raft thesis §6.4). */
class RaftReadTest {

  private static List<String> reads(Network net, long id) {
    return net.readStates.get(id).stream().map(rs -> string(rs.requestCtx())).toList();
  }

  private static Config.Builder leaseReads(Config.Builder b) {
    return b.checkQuorum(true).readOnlyOption(ReadOnlyOption.LEASE_BASED).leaseTicks(8);
  }

  private static boolean heartbeatCarries(Message m, String ctx) {
    return m.type() == MessageType.HEARTBEAT && Arrays.equals(m.context(), bytes(ctx));
  }

  // Thesis §6.4: a new leader answers no read until it commits an entry of its term.
  @Test
  void readIndexOnNewLeaderWaitsForAnEntryOfItsTermToCommit() {
    Network net = Network.of(3);
    net.campaign(1);
    net.node(1).propose(bytes("old"));
    net.stabilize();
    net.campaign(2);
    Raft r2 = net.raft(2);
    assertThat(net.leader()).isEqualTo(2);
    // A newer leader whose no-op has not committed yet: its acknowledgements are lost.
    net.dropFilter = m -> m.type() == MessageType.APP_RESP && m.to() == 1;
    net.campaign(1);
    Raft r1 = net.raft(1);
    assertThat(r1.state).isEqualTo(StateType.LEADER);
    assertThat(r1.raftLog.termOrMinus(r1.raftLog.committed)).isNotEqualTo(r1.term);

    net.node(1).readIndex(bytes("r"));
    net.stabilize();

    assertThat(reads(net, 1)).isEmpty();
    assertThat(net.delivered).noneMatch(m -> heartbeatCarries(m, "r"));

    net.recover();
    net.tick(1, 1);
    net.stabilize();

    assertThat(reads(net, 1)).containsExactly("r");
    ReadState rs = net.readStates.get(1L).get(0);
    assertThat(rs.index()).isEqualTo(r1.raftLog.committed);
    assertThat(r1.raftLog.term(rs.index())).as("the read index covers the own-term no-op").isEqualTo(r1.term);
    assertThat(r2.state).isEqualTo(StateType.FOLLOWER);
  }

  // Thesis §6.4: a read waits for a heartbeat quorum and reads at the commit index of its arrival.
  @Test
  void readIndexIsConfirmedByAHeartbeatQuorumAtTheCommitIndexOfItsArrival() {
    Network net = Network.of(3);
    net.campaign(1);
    long commitAtRead = net.raft(1).raftLog.committed;
    net.dropFilter = m -> m.type() == MessageType.HEARTBEAT_RESP;

    net.node(1).readIndex(bytes("r"));
    net.stabilize();

    assertThat(net.delivered).filteredOn(m -> heartbeatCarries(m, "r")).extracting(Message::to)
        .containsExactlyInAnyOrder(2L, 3L);
    assertThat(reads(net, 1)).as("no quorum acknowledged yet").isEmpty();

    // Writes commit meanwhile; only node 2 acknowledges heartbeats from now on: 1 and 2 are a quorum.
    net.propose(1, "w");
    assertThat(net.raft(1).raftLog.committed).isGreaterThan(commitAtRead);
    net.dropFilter = m -> m.type() == MessageType.HEARTBEAT_RESP && m.from() == 3;
    net.tick(1, 1);
    net.stabilize();

    assertThat(reads(net, 1)).containsExactly("r");
    assertThat(net.readStates.get(1L).get(0).index()).isEqualTo(commitAtRead);
  }

  // Thesis §6.4: a follower's read goes to the leader, which confirms it and answers the index.
  @Test
  void readIndexFromAFollowerIsForwardedAndAnswered() {
    Network net = Network.of(3);
    net.campaign(1);
    net.propose(1, "w");
    long committed = net.raft(1).raftLog.committed;

    net.node(2).readIndex(bytes("f"));
    net.stabilize();

    assertThat(net.delivered)
        .anyMatch(m -> m.type() == MessageType.READ_INDEX && m.from() == 2 && m.to() == 1);
    assertThat(net.delivered).anyMatch(m -> heartbeatCarries(m, "f"));
    assertThat(net.delivered).filteredOn(m -> m.type() == MessageType.READ_INDEX_RESP)
        .singleElement()
        .satisfies(m -> {
          assertThat(m.to()).isEqualTo(2);
          assertThat(m.index()).isEqualTo(committed);
        });
    assertThat(reads(net, 2)).containsExactly("f");
    assertThat(net.readStates.get(2L).get(0).index()).isEqualTo(committed);
    assertThat(reads(net, 1)).isEmpty();
  }

  // Thesis §6.4: a leader cut off from its majority never answers a safe read.
  @Test
  void partitionedMinorityLeaderNeverAnswersASafeRead() {
    Network net = Network.of(3);
    net.campaign(1);
    net.cut(1, 2);
    net.cut(1, 3);

    net.node(1).readIndex(bytes("stale"));
    for (int i = 0; i < 50; i++) {
      net.tickAll(1);
    }

    assertThat(net.raft(1).state).as("without check-quorum it still thinks it leads")
        .isEqualTo(StateType.LEADER);
    long newLeader = net.leader();
    assertThat(newLeader).isIn(2L, 3L);
    net.propose(newLeader, "newer");
    assertThat(reads(net, 1)).isEmpty();
    assertThat(net.raft(1).readStates).isEmpty();

    net.recover();
    net.tickAll(5);
    assertThat(reads(net, 1)).as("not even after healing: it stepped down").isEmpty();
  }

  // Thesis §6.4.1: a lease read skips the heartbeat round only while the lease holds.
  @Test
  void leaseReadSkipsTheHeartbeatRoundOnlyWhileTheLeaseHolds() {
    Network net = Network.of(3, RaftReadTest::leaseReads);
    net.campaign(1);
    net.tick(1, 1);
    net.stabilize();
    RawNode n1 = net.node(1);
    assertThat(n1.leaseValid()).isTrue();

    n1.readIndex(bytes("a"));

    assertThat(net.raft(1).readStates).extracting(rs -> string(rs.requestCtx())).containsExactly("a");
    assertThat(net.raft(1).msgs).noneMatch(m -> m.type() == MessageType.HEARTBEAT);
    assertThat(net.raft(1).readStates.get(0).index()).isEqualTo(net.raft(1).raftLog.committed);
    net.stabilize();

    // No acknowledgements for leaseTicks: the lease runs out.
    net.dropFilter = m -> m.type() == MessageType.HEARTBEAT_RESP;
    for (int i = 0; i < 8; i++) {
      net.tick(1, 1);
      net.stabilize();
    }
    assertThat(n1.leaseValid()).isFalse();
    assertThat(net.raft(1).state).isEqualTo(StateType.LEADER);

    n1.readIndex(bytes("b"));
    assertThat(net.raft(1).readStates).isEmpty();
    assertThat(net.raft(1).msgs).filteredOn(m -> heartbeatCarries(m, "b")).hasSize(2);
    net.stabilize();
    assertThat(reads(net, 1)).containsExactly("a");

    net.dropFilter = m -> false;
    net.tick(1, 1);
    net.stabilize();
    assertThat(reads(net, 1)).containsExactly("a", "b");
    assertThat(n1.leaseValid()).isTrue();
  }

  // Thesis §6.4.1: LEASE_BASED without check-quorum is refused, naming readOnlyOption.
  @Test
  void leaseReadIsRefusedWithoutCheckQuorum() {
    Config c = RaftFixtures.config(1).checkQuorum(false).readOnlyOption(ReadOnlyOption.LEASE_BASED).build();

    assertThatThrownBy(c::validate)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("readOnlyOption")
        .hasMessageContaining("checkQuorum");
    assertThatThrownBy(() -> new RawNode(c, MemoryStorage.withVoters(1L)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(leaseReads(RaftFixtures.config(1)).build().validate()).isNotNull();
  }

  // Thesis §6.4.1: the lease must be shorter than the election timeout.
  @Test
  void leaseLongerThanTheElectionTimeoutIsRefused() {
    Config c = RaftFixtures.config(1).checkQuorum(true).readOnlyOption(ReadOnlyOption.LEASE_BASED)
        .leaseTicks(10).build();

    assertThatThrownBy(c::validate)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("leaseTicks");
  }

  // A follower with no known leader cannot serve a read: it is refused, typed.
  @Test
  void readWithoutALeaderIsRefused() {
    Network net = Network.of(3);

    assertThatThrownBy(() -> net.node(2).readIndex(bytes("r")))
        .isInstanceOfSatisfying(ProposalDroppedException.class,
            e -> assertThat(e.reason()).isEqualTo(ProposalDroppedException.Reason.NO_LEADER));
    assertThat(tickUntilLeader(net, 40)).isNotZero();
  }
  // Thesis §6.4.1: after TimeoutNow a leader trusts no lease for the rest of its term.
  @Test
  void leaseIsGivenUpOnceTimeoutNowIsSent() {
    Network net = Network.of(3, RaftReadTest::leaseReads);
    net.campaign(1);
    net.tick(1, 1);
    net.stabilize();
    RawNode n1 = net.node(1);
    assertThat(n1.leaseValid()).isTrue();
    net.dropFilter = m -> m.type() == MessageType.TIMEOUT_NOW;

    n1.transferLeader(2);
    net.stabilize();
    assertThat(n1.leaseValid()).isFalse();
    net.tick(1, 10);
    net.stabilize();
    assertThat(net.raft(1).leadTransferee).as("transfer timed out").isEqualTo(Raft.NONE);
    assertThat(net.raft(1).state).isEqualTo(StateType.LEADER);

    assertThat(n1.leaseValid()).isFalse();
    n1.readIndex(bytes("r"));
    assertThat(net.raft(1).readStates).isEmpty();
    assertThat(net.raft(1).msgs).filteredOn(m -> heartbeatCarries(m, "r")).hasSize(2);
    net.stabilize();
    assertThat(reads(net, 1)).containsExactly("r");
  }
}
