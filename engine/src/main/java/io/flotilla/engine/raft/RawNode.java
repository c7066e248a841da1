package io.flotilla.engine.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The driver's handle on one Raft group member: inputs in ({@link #tick}, {@link #step},
 * {@link #propose}, {@link #proposeConfChange}, {@link #readIndex}, {@link #transferLeader}),
 * a numbered {@link Ready} out, {@link #advance} back. Pure and not thread-safe: one thread at a
 * time drives it, and it never blocks, sleeps, reads a clock or does I/O.
 *
 * <p>At most one Ready is outstanding: after {@link #ready()}, inputs may still be stepped, but
 * the next Ready comes only after {@link #advance} acknowledges this one.
 */
public final class RawNode {
  private final Raft raft;
  private SoftState prevSoftState;
  private HardState prevHardState;
  private long readyNumber;
  private Ready outstanding;

  /** Starts (or restarts) a member from what {@code storage} holds. */
  public RawNode(Config config, Storage storage) {
    this.raft = new Raft(config, storage);
    this.prevSoftState = raft.softState();
    this.prevHardState = storage.initialState().hardState();
  }

  /** Advances logical time by one tick (election and heartbeat timeouts count ticks). */
  public void tick() {
    raft.tick();
  }

  /**
   * Starts an election now (pre-vote first if enabled). With lease reads it does nothing while this
   * node still hears from a leader (that leader may be serving reads on its lease).
   */
  public void campaign() {
    if (raft.campaignWouldBreakLease()) {
      return;
    }
    raft.step(Message.builder(MessageType.HUP).from(raft.id).build());
  }

  /**
   * Proposes data to be appended to the log. Forwarded to the leader if this node follows one.
   *
   * @throws ProposalDroppedException with the reason if refused (nothing was appended)
   */
  public void propose(byte[] data) {
    raft.step(Message.builder(MessageType.PROPOSE)
        .from(raft.id)
        .entries(List.of(Entry.normal(0, 0, data)))
        .build());
  }

  /**
   * Proposes several entries at once (one append per follower for all of them). On success they
   * occupy {@code lastIndex() - data.size() + 1 .. lastIndex()} in order.
   *
   * @throws ProposalDroppedException with the reason if refused (nothing was appended)
   */
  public void proposeAll(List<byte[]> data) {
    if (data.isEmpty()) {
      return;
    }
    List<Entry> entries = new ArrayList<>(data.size());
    for (byte[] d : data) {
      entries.add(Entry.normal(0, 0, d));
    }
    raft.step(Message.builder(MessageType.PROPOSE).from(raft.id).entries(entries).build());
  }

  /**
   * Proposes a membership change. One at a time: refused while another is not yet applied.
   *
   * @throws ProposalDroppedException with the reason if refused
   */
  public void proposeConfChange(ConfChange cc) {
    raft.step(Message.builder(MessageType.PROPOSE)
        .from(raft.id)
        .entries(List.of(cc.toEntry()))
        .build());
  }

  /**
   * Applies a committed conf change (the driver calls this when it applies the entry) and returns
   * the new membership, to persist with the state machine.
   */
  public ConfState applyConfChange(ConfChange cc) {
    return raft.applyConfChange(cc);
  }

  /**
   * Steps a message from the network. Local message types are refused; a proposal forwarded by a
   * follower that this leader refuses is dropped (the follower's caller times out).
   */
  public void step(Message m) {
    if (m.type().isLocal()) {
      throw new IllegalArgumentException("local message " + m.type() + " cannot be stepped from the network");
    }
    if (raft.trk.get(m.from()) == null && m.type().isResponse()) {
      return; // a response from a node no longer in the group
    }
    try {
      raft.step(m);
    } catch (ProposalDroppedException e) {
      // Forwarded proposals and reads are best effort.
    }
  }

  /**
   * Requests a linearizable read: the answer comes as a {@link ReadState} carrying {@code ctx}
   * (which must be unique among pending reads) in a later Ready.
   *
   * @throws ProposalDroppedException if no leader is known
   */
  public void readIndex(byte[] ctx) {
    raft.step(Message.builder(MessageType.READ_INDEX)
        .from(raft.id)
        .entries(List.of(Entry.normal(0, 0, ctx)))
        .build());
  }

  /** Asks the leader to hand leadership to {@code transferee}. */
  public void transferLeader(long transferee) {
    raft.step(Message.builder(MessageType.TRANSFER_LEADER).from(transferee).build());
  }

  /** The driver could not reach {@code id}: the leader goes back to probing it. */
  public void reportUnreachable(long id) {
    raft.step(Message.builder(MessageType.UNREACHABLE).from(id).build());
  }

  /** The driver finished (or failed) sending a snapshot to {@code id}. */
  public void reportSnapshot(long id, boolean success) {
    raft.step(Message.builder(MessageType.SNAP_STATUS).from(id).reject(!success).build());
  }

  /** True if a leader lease currently allows reads without a round trip. */
  public boolean leaseValid() {
    return raft.state == StateType.LEADER && raft.leader.leaseValid();
  }

  /**
   * Tells the core that ticks stopped or were missed (the driver hibernated the group, or its
   * timer fell behind): a lease measured in ticks would outlive real time, so the leader must
   * confirm itself with a fresh heartbeat round before it answers lease reads again.
   */
  public void invalidateLease() {
    raft.leader.invalidateLease();
  }

  /** This member's peer id. */
  public long id() {
    return raft.id;
  }

  /** The leader this member knows of (a peer id), or 0. Cheap; no copies. */
  public long lead() {
    return raft.lead;
  }

  public long term() {
    return raft.term;
  }

  public StateType state() {
    return raft.state;
  }

  /** Index of the last entry in the log (persisted or not). */
  public long lastIndex() {
    return raft.raftLog.lastIndex();
  }

  public long committed() {
    return raft.raftLog.committed;
  }

  /**
   * True when a leader has nothing left to do until new input arrives: every peer matches its whole
   * log, all of it is committed and handed to the state machine, and no read, transfer or
   * membership change is under way. A driver may then stop ticking the group (hibernate).
   */
  public boolean quiescent() {
    if (raft.state != StateType.LEADER) {
      return false;
    }
    RaftLog log = raft.raftLog;
    long last = log.lastIndex();
    if (log.committed != last || log.applied != last || raft.leadTransferee != Raft.NONE
        || raft.readOnly.pendingCount() > 0 || raft.trk.config().voters().isJoint()) {
      return false;
    }
    boolean[] all = {true};
    raft.trk.visit((id, pr) -> {
      if (pr.match() != last) {
        all[0] = false;
      }
    });
    return all[0];
  }

  public Status status() {
    return Status.of(raft);
  }

  /** Whether {@link #ready()} has something; false while a Ready is outstanding. */
  public boolean hasReady() {
    if (outstanding != null) {
      return false;
    }
    if (raft.lead != prevSoftState.lead() || raft.state != prevSoftState.raftState()) {
      return true;
    }
    // NB: hot (every group, every round): compare fields instead of building a HardState.
    long commit = raft.raftLog.committed;
    if ((raft.term != 0 || raft.vote != 0 || commit != 0)
        && !prevHardState.sameAs(raft.term, raft.vote, commit)) {
      return true;
    }
    RaftLog log = raft.raftLog;
    return log.hasNextUnstableSnapshot()
        || log.unstable.hasNextEntries()
        || !raft.msgs.isEmpty()
        || !raft.readStates.isEmpty()
        || log.hasNextCommittedEntries();
  }

  /** The work to do now; see {@link Ready} for the order. Call {@link #advance} when done. */
  public Ready ready() {
    if (outstanding != null) {
      throw new IllegalStateException("Ready " + outstanding.number() + " is not advanced yet");
    }
    RaftLog log = raft.raftLog;
    SoftState ss = raft.softState();
    SoftState softState = ss.equals(prevSoftState) ? null : ss;
    HardState hs = raft.hardState();
    HardState hardState = hs.equals(prevHardState) || hs.isEmpty() ? null : hs;
    List<Entry> entries = log.nextUnstableEntries();
    Snapshot snapshot = log.nextUnstableSnapshot();
    List<Entry> committed = log.nextCommittedEntries();
    boolean termOrVoteChanged = hardState != null
        && (hs.term() != prevHardState.term() || hs.vote() != prevHardState.vote());
    List<Message> now = new ArrayList<>();
    List<Message> afterPersist = new ArrayList<>();
    for (Message m : raft.msgs) {
      if (termOrVoteChanged || needsPersistence(m.type())) {
        // NB: a node whose term or vote changed says nothing until that is durable, or a crash
        // could let it vote twice in a term.
        afterPersist.add(m);
      } else {
        now.add(m);
      }
    }
    raft.msgs = new ArrayList<>();
    List<ReadState> readStates = raft.readStates;
    raft.readStates = new ArrayList<>();
    log.unstable.acceptInProgress();
    boolean mustSync = !entries.isEmpty() || termOrVoteChanged || snapshot != null;
    outstanding = new Ready(
        ++readyNumber, softState, hardState, readStates, entries, snapshot, committed,
        now, afterPersist, mustSync);
    if (softState != null) {
      prevSoftState = softState;
    }
    return outstanding;
  }

  private static boolean needsPersistence(MessageType t) {
    return t == MessageType.APP_RESP || t == MessageType.VOTE_RESP || t == MessageType.PRE_VOTE_RESP;
  }

  /**
   * Acknowledges a Ready: its state is persisted, its messages sent, its committed entries handed
   * to the state machine. The leader counts its own persisted entries toward commit now.
   */
  public void advance(Ready rd) {
    if (outstanding == null || rd.number() != outstanding.number()) {
      throw new IllegalStateException(
          "advance(" + rd.number() + ") but outstanding is " + (outstanding == null ? "none" : outstanding.number()));
    }
    outstanding = null;
    RaftLog log = raft.raftLog;
    if (rd.hardState() != null) {
      prevHardState = rd.hardState();
    }
    if (rd.snapshot() != null) {
      log.stableSnapTo(rd.snapshot().index());
      if (log.applied < rd.snapshot().index()) {
        log.applied = rd.snapshot().index();
      }
    }
    if (!rd.entries().isEmpty()) {
      Entry last = rd.entries().get(rd.entries().size() - 1);
      log.stableTo(last.index(), last.term());
      raft.onPersisted(last.index(), last.term());
    }
    if (!rd.committedEntries().isEmpty()) {
      Entry last = rd.committedEntries().get(rd.committedEntries().size() - 1);
      raft.appliedTo(last.index(), rd.committedEntries());
    }
  }

  /** For tests in this package: the protocol object itself. */
  Raft raft() {
    return raft;
  }
}
