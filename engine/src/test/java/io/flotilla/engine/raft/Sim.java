package io.flotilla.engine.raft;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * One seeded, deterministic simulation run of a Raft group: a chaos phase (proposals, reads,
 * membership changes, leadership transfers, compaction, crashes, partitions, a lossy network
 * that reorders and duplicates), then a healed phase that must elect a leader and commit. The
 * {@link SimChecker} runs after every step. Everything random comes from one seed.
 */
final class Sim {
  /** A node: its durable part (storage, state machine) survives crashes; {@code raw} does not. */
  static final class Node {
    final long id;
    final MemoryStorage storage;
    RawNode raw;
    /** Taken from the node but not yet persisted: lost on a crash. */
    Ready pending;
    long smIndex;
    long smHash;
    long checkedCommit;
    long restartAt = -1;
    /** A paused node (a long GC pause, a stalled disk) neither ticks nor hears anything. */
    long pausedUntil = -1;

    Node(long id, MemoryStorage storage) {
      this.id = id;
      this.storage = storage;
    }

    boolean live() {
      return raw != null;
    }

    boolean running(long now) {
      return raw != null && pausedUntil < now;
    }
  }

  final long seed;
  private final Random rnd;
  private final SimNetwork net;
  final SimChecker checker;
  final Map<Long, Node> nodes = new TreeMap<>();
  private final Map<String, Long> readAskBound = new HashMap<>();
  private final boolean preVote;
  private final boolean checkQuorum;
  private final ReadOnlyOption readOnly;
  private final int electionTick = 10;
  private final int chaosTicks;
  private long now;
  private long seq;
  private long nextNodeId;
  /** Test hooks: deliberate bugs switched on in every node. */
  boolean bugSkipElectionRestriction;
  boolean bugDoubleVote;
  /** Test hook: do not invalidate a paused node's lease when it resumes. */
  boolean bugKeepLeaseAcrossPauses;
  /** Crash-heavy chaos (many leader crashes and restarts): finds subtle commit-rule bugs sooner. */
  boolean aggressive;
  int proposalsCommitted;
  /** What a run did, so a campaign can show it exercised what it claims to. */
  final int[] stats = new int[Stat.values().length];

  enum Stat { COMMITTED, READS, CONF_CHANGES, SNAPSHOTS, CRASHES, PAUSES, PARTITIONS, LEADERS, TRANSFERS_ASKED }

  Sim(long seed) {
    this.seed = seed;
    this.rnd = new Random(seed);
    this.net = new SimNetwork(rnd);
    this.checker = new SimChecker(seed);
    int size = rnd.nextBoolean() ? 3 : 5;
    this.preVote = rnd.nextInt(4) != 0;
    this.checkQuorum = rnd.nextInt(4) != 0;
    this.readOnly = checkQuorum && rnd.nextBoolean() ? ReadOnlyOption.LEASE_BASED : ReadOnlyOption.SAFE;
    this.chaosTicks = 150 + rnd.nextInt(150);
    List<Long> voters = new ArrayList<>();
    for (long id = 1; id <= size; id++) {
      voters.add(id);
    }
    nextNodeId = size + 1;
    for (long id : voters) {
      Node n = new Node(id, MemoryStorage.bootstrap(voters));
      nodes.put(id, n);
    }
  }

  @Override
  public String toString() {
    return "seed=" + seed + " nodes=" + nodes.size() + " preVote=" + preVote + " checkQuorum="
        + checkQuorum + " reads=" + readOnly + " chaosTicks=" + chaosTicks;
  }

  private RawNode start(Node n) {
    Random jitter = new Random(seed * 31 + n.id * 7 + now);
    Config c = Config.builder(n.id, jitter::nextInt)
        .electionTick(electionTick)
        .heartbeatTick(2)
        .applied(n.smIndex)
        .preVote(preVote)
        .checkQuorum(checkQuorum)
        .readOnlyOption(readOnly)
        .maxSizePerMsg(1 + rnd.nextInt(200))
        .maxInflightMsgs(1 + rnd.nextInt(8))
        .maxUncommittedEntriesSize(2048)
        .build();
    n.raw = new RawNode(c, n.storage);
    n.raw.raft().bugSkipElectionRestriction = bugSkipElectionRestriction;
    n.raw.raft().bugDoubleVote = bugDoubleVote;
    n.pending = null;
    return n.raw;
  }

  /** Runs the chaos phase and the healed phase; throws {@link SimViolation} on a broken rule. */
  void run() {
    for (Node n : nodes.values()) {
      start(n);
    }
    net.dropRate = rnd.nextDouble() * 0.1;
    net.dupRate = rnd.nextDouble() * 0.05;
    net.maxDelay = 1 + rnd.nextInt(3);
    for (int t = 0; t < chaosTicks; t++) {
      step(true);
    }
    heal();
    int bound = 40 * electionTick;
    int committedBefore = proposalsCommitted;
    for (int t = 0; t < bound; t++) {
      if (t % 5 == 0) {
        Node leader = leader();
        if (leader != null) {
          propose(leader, "heal");
        }
      }
      step(false);
      if (proposalsCommitted > committedBefore && leader() != null) {
        return;
      }
    }
    throw checker.violation("liveness: no leader committed within " + bound
        + " ticks after healing (" + this + ")" + describeNodes());
  }

  private void heal() {
    net.heal();
    for (Node n : nodes.values()) {
      if (!n.live()) {
        start(n);
      }
    }
  }

  /** One line per node: role, term, log and membership, for failure messages. */
  String describeNodes() {
    StringBuilder sb = new StringBuilder();
    for (Node n : nodes.values()) {
      sb.append("\n  node ").append(n.id);
      if (!n.live()) {
        sb.append(" down");
        continue;
      }
      Status st = n.raw.status();
      Raft r = n.raw.raft();
      sb.append(' ').append(st.softState().raftState()).append(" term=").append(st.hardState().term())
          .append(" vote=").append(st.hardState().vote()).append(" lead=").append(st.softState().lead())
          .append(" commit=").append(st.hardState().commit()).append(" applied=").append(st.applied())
          .append(" last=").append(st.lastIndex()).append(" first=").append(r.raftLog.firstIndex())
          .append(" conf=").append(st.confState()).append(" pendingConf=").append(r.pendingConfIndex)
          .append(" pending=").append(n.pending != null).append(" progress=").append(st.progress());
    }
    return sb.toString();
  }

  Node leader() {
    Node best = null;
    for (Node n : nodes.values()) {
      if (n.running(now) && n.raw.raft().state == StateType.LEADER
          && (best == null || n.raw.raft().term > best.raw.raft().term)) {
        best = n;
      }
    }
    return best;
  }

  private void step(boolean chaos) {
    now++;
    for (Node n : nodes.values()) {
      if (n.live() && n.pausedUntil == now) {
        // Its ticks stopped while time went on: a lease it held can no longer be trusted.
        if (!bugKeepLeaseAcrossPauses) {
          n.raw.invalidateLease();
        }
        // A client request that waited out the pause arrives first.
        if (rnd.nextBoolean()) {
          read(n);
        }
      }
      if (n.running(now)) {
        n.raw.tick();
        checker.checkNode(n);
      } else if (!n.live() && n.restartAt >= 0 && n.restartAt <= now) {
        start(n);
      }
    }
    for (Message m : net.due(now)) {
      Node to = nodes.get(m.to());
      if (to != null && to.running(now)) {
        to.raw.step(m);
        checker.checkNode(to);
      }
    }
    for (Message report : net.snapshotReports) {
      Node from = nodes.get(report.to());
      if (from != null && from.running(now)) {
        from.raw.reportSnapshot(report.from(), !report.reject());
        checker.checkNode(from);
      }
    }
    net.snapshotReports.clear();
    if (chaos) {
      chaos();
    }
    for (Node n : nodes.values()) {
      if (n.running(now)) {
        handleReady(n);
      }
    }
  }

  private void handleReady(Node n) {
    if (n.pending != null && rnd.nextInt(3) != 0) {
      persist(n);
    }
    if (n.pending == null && n.raw.hasReady()) {
      n.pending = n.raw.ready();
      net.send(now, n.pending.messages());
      if (rnd.nextInt(3) != 0) {
        persist(n);
      }
    }
    checker.checkNode(n);
  }

  /** Makes the pending Ready durable, then sends what waited for it, applies and advances. */
  private void persist(Node n) {
    Ready rd = n.pending;
    n.pending = null;
    if (rd.snapshot() != null) {
      n.storage.applySnapshot(rd.snapshot());
      ByteBuffer b = ByteBuffer.wrap(rd.snapshot().data());
      n.smIndex = b.getLong();
      n.smHash = b.getLong();
      stats[Stat.SNAPSHOTS.ordinal()]++;
      checker.onApplied(n.id, n.smIndex, n.smHash);
    }
    n.storage.append(rd.entries());
    if (rd.hardState() != null) {
      n.storage.setHardState(rd.hardState());
    }
    net.send(now, rd.persistedMessages());
    for (Entry e : rd.committedEntries()) {
      if (e.index() != n.smIndex + 1) {
        throw checker.violation("node " + n.id + " applies " + e.index() + " after " + n.smIndex);
      }
      if (e.type() == EntryType.CONF_CHANGE) {
        ConfState cs = n.raw.applyConfChange(ConfChange.decode(e.data()));
        stats[Stat.CONF_CHANGES.ordinal()]++;
        n.storage.setConfState(cs);
      } else if (e.data().length > 0 && e.data()[0] == 'p') {
        proposalsCommitted++;
        stats[Stat.COMMITTED.ordinal()]++;
      }
      n.smIndex = e.index();
      n.smHash = n.smHash * 1_000_003L + e.term() * 31 + SimChecker.hash(e.data());
      checker.onApplied(n.id, n.smIndex, n.smHash);
    }
    for (ReadState rs : rd.readStates()) {
      Long bound = readAskBound.remove(new String(rs.requestCtx(), StandardCharsets.UTF_8));
      if (bound != null) {
        checker.onReadState(n.id, rs, bound);
        stats[Stat.READS.ordinal()]++;
      }
    }
    n.raw.advance(rd);
  }

  // ------------------------------------------------------------------ chaos

  private void chaos() {
    int roll = rnd.nextInt(1000);
    if (aggressive && roll < 80) {
      if (roll < 40) {
        crashLeader();
      } else {
        propose(leader(), "p");
      }
      return;
    }
    if (roll < 300) {
      propose(randomLive(), "p");
    } else if (roll < 400) {
      read(randomLive());
    } else if (roll < 412) {
      transfer();
    } else if (roll < 440) {
      confChange();
    } else if (roll < 470) {
      compact(randomLive());
    } else if (roll < 478) {
      crash();
    } else if (roll < 490) {
      partition();
    } else if (roll < 494) {
      pause(rnd.nextBoolean() ? leader() : randomLive());
    }
  }

  private Node randomLive() {
    List<Node> live = new ArrayList<>();
    for (Node n : nodes.values()) {
      if (n.running(now)) {
        live.add(n);
      }
    }
    return live.isEmpty() ? null : live.get(rnd.nextInt(live.size()));
  }

  private void propose(Node n, String kind) {
    if (n == null) {
      return;
    }
    try {
      n.raw.propose((kind.equals("p") ? "p" + seq++ : "p-heal" + seq++).getBytes(StandardCharsets.UTF_8));
    } catch (ProposalDroppedException e) {
      // refused: fine, nothing was appended
    }
    checker.checkNode(n);
  }

  private void read(Node n) {
    if (n == null) {
      return;
    }
    // The bound is what any node has committed now: a correct read sees at least that.
    for (Node x : nodes.values()) {
      if (x.live()) {
        checker.checkNode(x);
      }
    }
    String ctx = "r" + seq++;
    readAskBound.put(ctx, checker.maxCommitted);
    try {
      n.raw.readIndex(ctx.getBytes(StandardCharsets.UTF_8));
    } catch (ProposalDroppedException e) {
      readAskBound.remove(ctx);
    }
    checker.checkNode(n);
  }

  private void transfer() {
    Node leader = leader();
    if (leader == null) {
      return;
    }
    List<Long> voters = leader.raw.status().confState().voters();
    stats[Stat.TRANSFERS_ASKED.ordinal()]++;
    leader.raw.transferLeader(voters.get(rnd.nextInt(voters.size())));
    checker.checkNode(leader);
  }

  private void confChange() {
    Node leader = leader();
    if (leader == null) {
      return;
    }
    ConfState cs = leader.raw.status().confState();
    ConfChange cc;
    int roll = rnd.nextInt(10);
    if (cs.isJoint()) {
      if (cs.autoLeave()) {
        return;
      }
      cc = ConfChange.leaveJoint();
    } else if (roll < 3 && nodes.size() < 9) {
      long id = nextNodeId++;
      Node n = new Node(id, new MemoryStorage());
      nodes.put(id, n);
      start(n);
      cc = ConfChange.addLearner(id);
    } else if (roll < 5 && !cs.learners().isEmpty()) {
      cc = ConfChange.addNode(cs.learners().get(rnd.nextInt(cs.learners().size())));
    } else if (roll < 7 && cs.voters().size() > 3) {
      cc = ConfChange.removeNode(cs.voters().get(rnd.nextInt(cs.voters().size())));
    } else if (roll < 8 && !cs.learners().isEmpty()) {
      cc = ConfChange.removeNode(cs.learners().get(rnd.nextInt(cs.learners().size())));
    } else if (!cs.learners().isEmpty()) {
      // Replace the leader through joint consensus: promote a learner, remove the leader.
      long learner = cs.learners().get(rnd.nextInt(cs.learners().size()));
      cc = new ConfChange(
          rnd.nextBoolean() ? ConfChange.Transition.JOINT_IMPLICIT : ConfChange.Transition.JOINT_EXPLICIT,
          List.of(new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, learner),
              new ConfChangeSingle(ConfChangeSingle.Type.REMOVE_NODE, leader.id)),
          null);
    } else {
      return;
    }
    try {
      leader.raw.proposeConfChange(cc);
    } catch (ProposalDroppedException e) {
      // pending change or transfer: fine
    }
    checker.checkNode(leader);
  }

  private void compact(Node n) {
    if (n == null || n.smIndex <= n.storage.snapshot().index() || n.smIndex > n.storage.lastIndex()) {
      return;
    }
    ByteBuffer data = ByteBuffer.allocate(16).putLong(n.smIndex).putLong(n.smHash);
    ConfState cs = n.storage.initialState().confState();
    n.storage.createSnapshot(n.smIndex, cs, data.array());
    long compactTo = n.smIndex - rnd.nextInt(3);
    if (compactTo > n.storage.firstIndex()) {
      n.storage.compact(compactTo);
    }
  }

  private void pause(Node n) {
    if (n != null) {
      stats[Stat.PAUSES.ordinal()]++;
      n.pausedUntil = now + 5 + rnd.nextInt(40);
    }
  }

  private void crashLeader() {
    Node leader = leader();
    if (leader != null) {
      crash(leader);
    }
  }

  private void crash() {
    crash(randomLive());
  }

  private void crash(Node n) {
    if (n == null) {
      return;
    }
    stats[Stat.CRASHES.ordinal()]++;
    n.raw = null;
    n.pending = null; // whatever was not persisted is lost
    n.restartAt = now + (aggressive ? 1 + rnd.nextInt(20) : 5 + rnd.nextInt(60));
  }

  private void partition() {
    stats[Stat.PARTITIONS.ordinal()]++;
    net.heal();
    net.dropRate = rnd.nextDouble() * 0.1;
    net.dupRate = rnd.nextDouble() * 0.05;
    List<Long> ids = new ArrayList<>(nodes.keySet());
    switch (rnd.nextInt(5)) {
      case 0 -> {
        // healed
      }
      case 1 -> {
        // clean split into two random sides
        List<Long> side = new ArrayList<>();
        for (long id : ids) {
          if (rnd.nextBoolean()) {
            side.add(id);
          }
        }
        for (long a : side) {
          for (long b : ids) {
            if (!side.contains(b)) {
              net.blockBoth(a, b);
            }
          }
        }
      }
      case 2 -> {
        Node leader = leader();
        if (leader != null) {
          for (long b : ids) {
            if (b != leader.id) {
              net.blockBoth(leader.id, b);
            }
          }
        }
      }
      case 3 -> {
        // majorities ring: each node talks only to its neighbours
        int k = ids.size();
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            int d = Math.abs(i - j);
            if (i != j && Math.min(d, k - d) > 1) {
              net.block(ids.get(i), ids.get(j));
            }
          }
        }
      }
      default -> {
        long a = ids.get(rnd.nextInt(ids.size()));
        long b = ids.get(rnd.nextInt(ids.size()));
        if (a != b) {
          net.block(a, b); // one-way cut
        }
      }
    }
  }
}
