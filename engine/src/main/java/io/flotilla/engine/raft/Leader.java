package io.flotilla.engine.raft;

import io.flotilla.engine.raft.quorum.VoteResult;
import io.flotilla.engine.raft.tracker.Progress;
import io.flotilla.engine.raft.tracker.ProgressState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a leader does: replicate (per-follower flow control), commit, heartbeat, answer reads
 * (ReadIndex and lease) and hand leadership over. Part of {@link Raft}, split out for size; same
 * thread rules.
 *
 * <p>Lease reads: every heartbeat broadcast is a numbered round, echoed by followers. The lease
 * runs from when the newest round acknowledged by a quorum was <em>sent</em>, for
 * {@link Config#leaseTicks()} ticks. A follower that got that heartbeat refuses votes for an
 * election timeout after receiving it (and refuses to campaign on request, see RawNode#campaign), so no
 * other leader can be elected while the lease holds.
 * A leader that sent TIMEOUT_NOW in its term never trusts a lease again in that term.
 */
final class Leader {
  private final Raft r;
  /** Reads that arrived before this leader committed an entry of its term (thesis §6.4). */
  private final List<Message> pendingReadIndexMessages = new ArrayList<>();
  private long heartbeatRound;
  private final Map<Long, Long> roundSentTick = new HashMap<>();
  private final Map<Long, Long> ackedRound = new HashMap<>();
  private boolean leaseRevoked;
  /** Heartbeat rounds below this one no longer count for the lease (see invalidateLease). */
  private long minLeaseRound = 1;

  Leader(Raft r) {
    this.r = r;
  }

  /** Called on every role change: a new term or role starts with no reads and no lease. */
  void reset() {
    pendingReadIndexMessages.clear();
    heartbeatRound = 0;
    roundSentTick.clear();
    ackedRound.clear();
    leaseRevoked = false;
    minLeaseRound = 1;
  }

  /**
   * Ticks stopped or were missed (a hibernated group, a long pause): tick counts no longer measure
   * time, so only heartbeat rounds sent from now on can grant a lease again.
   */
  void invalidateLease() {
    minLeaseRound = heartbeatRound + 1;
  }

  void step(Message m) {
    switch (m.type()) {
      case BEAT -> {
        bcastHeartbeat();
        return;
      }
      case CHECK_QUORUM -> {
        checkQuorum();
        return;
      }
      case PROPOSE -> {
        propose(m);
        return;
      }
      case READ_INDEX -> {
        readIndex(m);
        return;
      }
      default -> {
        // per-follower messages below
      }
    }
    Progress pr = r.trk.get(m.from());
    if (pr == null) {
      return;
    }
    switch (m.type()) {
      case APP_RESP -> handleAppendResponse(m, pr);
      case HEARTBEAT_RESP -> handleHeartbeatResponse(m, pr);
      case SNAP_STATUS -> handleSnapshotStatus(m, pr);
      case UNREACHABLE -> {
        // Probably lost messages: go back to probing until the follower answers.
        if (pr.state() == ProgressState.REPLICATE) {
          pr.becomeProbe();
        }
      }
      case TRANSFER_LEADER -> transferLeader(m.from(), pr);
      default -> {
        // stale responses of other kinds
      }
    }
  }

  private void checkQuorum() {
    // Raft thesis §6.2: a leader that cannot reach a quorum steps down.
    Progress self = r.trk.get(r.id);
    if (self != null) {
      self.setRecentActive(true);
    }
    if (!r.trk.quorumActive()) {
      r.becomeFollower(r.term, Raft.NONE);
    }
    r.trk.visit((id, pr) -> {
      if (id != r.id) {
        pr.setRecentActive(false);
      }
    });
  }

  private void propose(Message m) {
    if (m.entries().isEmpty()) {
      throw new IllegalStateException("[" + r.id + "] stepped empty proposal");
    }
    if (r.trk.get(r.id) == null) {
      throw new ProposalDroppedException(
          ProposalDroppedException.Reason.NOT_MEMBER, "node " + r.id + " was removed from its group");
    }
    if (r.leadTransferee != Raft.NONE) {
      throw new ProposalDroppedException(
          ProposalDroppedException.Reason.LEADER_TRANSFERRING,
          "node " + r.id + " is transferring leadership to " + r.leadTransferee);
    }
    long pendingConf = r.pendingConfIndex;
    for (int i = 0; i < m.entries().size(); i++) {
      Entry e = m.entries().get(i);
      if (e.type() != EntryType.CONF_CHANGE) {
        continue;
      }
      ConfChange cc = ConfChange.decode(e.data());
      boolean joint = r.trk.config().voters().isJoint();
      if (pendingConf > r.raftLog.applied) {
        throw new ProposalDroppedException(ProposalDroppedException.Reason.CONF_CHANGE_PENDING,
            "conf change at " + pendingConf + " not applied yet (applied " + r.raftLog.applied + ")");
      }
      if (joint && !cc.isLeaveJoint()) {
        throw new ProposalDroppedException(ProposalDroppedException.Reason.CONF_CHANGE_PENDING,
            "in joint config " + r.trk.config().voters() + ": leave it first");
      }
      if (!joint && cc.isLeaveJoint()) {
        throw new ProposalDroppedException(ProposalDroppedException.Reason.INVALID_CONF_CHANGE,
            "not in a joint config: nothing to leave");
      }
      r.checkConfChange(cc);
      pendingConf = r.raftLog.lastIndex() + i + 1;
    }
    if (!r.appendEntry(m.entries())) {
      throw new ProposalDroppedException(ProposalDroppedException.Reason.UNCOMMITTED_LIMIT,
          "uncommitted entries hold " + r.uncommittedSize + " bytes, limit maxUncommittedEntriesSize="
              + r.maxUncommittedSize);
    }
    r.pendingConfIndex = pendingConf;
    bcastAppend();
  }

  // ---------------------------------------------------------------- replication

  void bcastAppend() {
    r.trk.visit((id, pr) -> {
      if (id != r.id) {
        sendAppend(id);
      }
    });
  }

  void sendAppend(long to) {
    maybeSendAppend(to, true);
  }

  /**
   * Sends the follower what it lacks: entries from its next index (at most
   * {@link Config#maxSizePerMsg()} bytes), or a snapshot if those are compacted. Returns whether a
   * message was sent. With {@code sendIfEmpty} an empty append still goes (to carry the commit).
   */
  boolean maybeSendAppend(long to, boolean sendIfEmpty) {
    Progress pr = r.trk.get(to);
    if (pr == null || pr.isPaused()) {
      return false;
    }
    long prevIndex = pr.next() - 1;
    long prevTerm = r.raftLog.termOrMinus(prevIndex);
    List<Entry> ents = null;
    if (prevTerm >= 0) {
      try {
        ents = r.raftLog.entries(pr.next(), r.maxMsgSize);
      } catch (CompactedException e) {
        ents = null;
      }
    }
    if (prevTerm < 0 || ents == null) {
      return sendSnapshot(to, pr);
    }
    if (ents.isEmpty() && !sendIfEmpty) {
      return false;
    }
    r.send(Message.builder(MessageType.APP)
        .to(to)
        .index(prevIndex)
        .logTerm(prevTerm)
        .entries(ents)
        .commit(r.raftLog.committed));
    if (!ents.isEmpty()) {
      pr.sentEntries(ents.size(), ents.get(ents.size() - 1).index());
    } else if (pr.state() == ProgressState.PROBE) {
      pr.probeSent();
    }
    return true;
  }

  private boolean sendSnapshot(long to, Progress pr) {
    if (!pr.recentActive()) {
      // Do not spend a snapshot on a follower that may be down; heartbeats will tell.
      return false;
    }
    Snapshot snap;
    try {
      snap = r.raftLog.snapshot();
    } catch (UnavailableException e) {
      return false; // being built: retried on the next heartbeat response
    }
    if (snap.isEmpty()) {
      throw new IllegalStateException("[" + r.id + "] need a non-empty snapshot for " + to);
    }
    pr.becomeSnapshot(snap.index());
    r.send(Message.builder(MessageType.SNAPSHOT).to(to).snapshot(snap));
    return true;
  }

  private void handleAppendResponse(Message m, Progress pr) {
    pr.setRecentActive(true);
    if (m.reject()) {
      // Fast backtracking: skip past the follower's whole conflicting term.
      long nextProbeIdx = m.rejectHint();
      if (m.logTerm() > 0) {
        nextProbeIdx = r.raftLog.findConflictByTerm(m.rejectHint(), m.logTerm())[0];
      }
      if (pr.maybeDecrTo(m.index(), nextProbeIdx)) {
        if (pr.state() == ProgressState.REPLICATE) {
          pr.becomeProbe();
        }
        sendAppend(m.from());
      }
      return;
    }
    boolean oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index())
        && !(pr.match() == m.index() && pr.state() == ProgressState.PROBE)) {
      return;
    }
    switch (pr.state()) {
      case PROBE -> pr.becomeReplicate();
      case SNAPSHOT -> {
        if (pr.match() + 1 >= r.raftLog.firstIndex()) {
          // The follower caught up past our log's start: resume normal replication.
          pr.becomeProbe();
          pr.becomeReplicate();
        }
      }
      case REPLICATE -> pr.inflights().freeLE(m.index());
      default -> throw new IllegalStateException("unknown progress state " + pr.state());
    }
    if (r.maybeCommit()) {
      onCommitted();
    } else if (oldPaused) {
      sendAppend(m.from());
    }
    // Fill the in-flight window.
    while (maybeSendAppend(m.from(), false)) {
      // keep sending
    }
    if (m.from() == r.leadTransferee && pr.match() == r.raftLog.lastIndex()) {
      // Raft thesis §3.10: the transferee has our whole log; tell it to campaign now.
      sendTimeoutNow(m.from());
    }
  }

  /** The commit index may have moved (the leader's own persistence): act on it. */
  void onCommitMaybeAdvanced() {
    if (r.maybeCommit()) {
      onCommitted();
    }
  }

  /** The commit index moved: answer reads waiting for it, tell followers. */
  void onCommitted() {
    releasePendingReadIndexMessages();
    bcastAppend();
  }

  private void handleHeartbeatResponse(Message m, Progress pr) {
    pr.setRecentActive(true);
    pr.setMsgAppFlowPaused(false);
    if (pr.state() == ProgressState.REPLICATE && pr.inflights().full()) {
      pr.inflights().freeFirstOne();
    }
    if (m.index() > ackedRound.getOrDefault(m.from(), 0L)) {
      ackedRound.put(m.from(), m.index());
    }
    if (pr.match() < r.raftLog.lastIndex() || pr.state() == ProgressState.PROBE) {
      sendAppend(m.from());
    }
    if (m.context().length == 0) {
      return;
    }
    Set<Long> acks = r.readOnly.recvAck(m.from(), m.context());
    if (acks == null) {
      return;
    }
    Map<Long, Boolean> votes = new HashMap<>();
    for (long id : acks) {
      votes.put(id, true);
    }
    if (r.trk.config().voters().voteResult(votes) != VoteResult.WON) {
      return;
    }
    for (ReadOnly.Status rs : r.readOnly.advance(m.context())) {
      respondToReadIndex(rs.req, rs.index);
    }
  }

  private void handleSnapshotStatus(Message m, Progress pr) {
    if (pr.state() != ProgressState.SNAPSHOT) {
      return;
    }
    if (m.reject()) {
      Raft.abortSnapshot(pr);
    } else {
      pr.becomeProbe();
    }
    // Wait for the follower's append response (or a heartbeat) before probing again.
    pr.setMsgAppFlowPaused(true);
  }

  // ---------------------------------------------------------------- heartbeats and reads

  void bcastHeartbeat() {
    byte[] ctx = r.readOnly.lastPendingRequestCtx();
    bcastHeartbeatWithCtx(ctx);
  }

  private void bcastHeartbeatWithCtx(byte[] ctx) {
    long round = ++heartbeatRound;
    roundSentTick.put(round, r.tickCount);
    roundSentTick.remove(round - 4L * r.electionTimeout);
    r.trk.visit((id, pr) -> {
      if (id != r.id) {
        // NB: commit is capped at what the follower is known to have, so it can always apply it.
        r.send(Message.builder(MessageType.HEARTBEAT)
            .to(id)
            .index(round)
            .commit(Math.min(pr.match(), r.raftLog.committed))
            .context(ctx));
      }
    });
  }

  private void readIndex(Message m) {
    if (r.trk.isSingleton()) {
      respondToReadIndex(m, r.raftLog.committed);
      return;
    }
    // Raft thesis §6.4: a new leader does not know the commit index until it commits an entry
    // of its own term; reads wait for that.
    if (!r.committedEntryInCurrentTerm()) {
      pendingReadIndexMessages.add(m);
      return;
    }
    sendReadIndexResponse(m);
  }

  private void sendReadIndexResponse(Message m) {
    if (r.readOnlyOption == ReadOnlyOption.LEASE_BASED && leaseValid()) {
      respondToReadIndex(m, r.raftLog.committed);
      return;
    }
    // Safe ReadIndex: confirm leadership with a heartbeat round acknowledged by a quorum.
    r.readOnly.addRequest(r.raftLog.committed, m);
    r.readOnly.recvAck(r.id, m.entries().get(0).data());
    bcastHeartbeatWithCtx(m.entries().get(0).data());
  }

  private void releasePendingReadIndexMessages() {
    if (pendingReadIndexMessages.isEmpty() || !r.committedEntryInCurrentTerm()) {
      return;
    }
    List<Message> pending = new ArrayList<>(pendingReadIndexMessages);
    pendingReadIndexMessages.clear();
    for (Message m : pending) {
      sendReadIndexResponse(m);
    }
  }

  private void respondToReadIndex(Message req, long readIndex) {
    if (req.from() == Raft.NONE || req.from() == r.id) {
      r.readStates.add(new ReadState(readIndex, req.entries().get(0).data()));
    } else {
      r.send(Message.builder(MessageType.READ_INDEX_RESP)
          .to(req.from())
          .index(readIndex)
          .entries(req.entries()));
    }
  }

  /** True while a quorum acknowledged a heartbeat sent less than leaseTicks ago. */
  boolean leaseValid() {
    if (leaseRevoked || !r.committedEntryInCurrentTerm() || r.leadTransferee != Raft.NONE) {
      return false;
    }
    long quorumRound = r.trk.config().voters().committedIndex(
        id -> id == r.id ? heartbeatRound : ackedRound.getOrDefault(id, 0L));
    if (quorumRound < minLeaseRound || quorumRound == Long.MAX_VALUE) {
      return false;
    }
    Long sent = roundSentTick.get(quorumRound);
    return sent != null && r.tickCount - sent < r.config.leaseTicks();
  }

  // ---------------------------------------------------------------- leadership transfer

  private void transferLeader(long transferee, Progress pr) {
    if (pr.isLearner()) {
      return; // a learner cannot lead
    }
    if (r.leadTransferee != Raft.NONE) {
      if (r.leadTransferee == transferee) {
        return; // already under way
      }
      r.abortLeaderTransfer();
    }
    if (transferee == r.id) {
      return; // already the leader
    }
    // The transfer must finish within an election timeout (tickHeartbeat aborts it).
    r.electionElapsed = 0;
    r.leadTransferee = transferee;
    if (pr.match() == r.raftLog.lastIndex()) {
      sendTimeoutNow(transferee);
    } else {
      sendAppend(transferee);
    }
  }

  private void sendTimeoutNow(long to) {
    // The target may win at any moment from now on: this term's lease is no longer ours.
    leaseRevoked = true;
    r.send(Message.builder(MessageType.TIMEOUT_NOW).to(to));
  }
}
