package io.flotilla.engine.raft;

import io.flotilla.engine.raft.confchange.Changer;
import io.flotilla.engine.raft.confchange.InvalidConfChangeException;
import io.flotilla.engine.raft.confchange.Restore;
import io.flotilla.engine.raft.quorum.VoteResult;
import io.flotilla.engine.raft.tracker.Progress;
import io.flotilla.engine.raft.tracker.ProgressState;
import io.flotilla.engine.raft.tracker.ProgressTracker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Raft protocol for one member of one group: terms, elections, and the role transitions. The
 * leader's replication, reads and transfers are in {@link Leader}. Driven by one thread at a time
 * (through {@link RawNode}); pure: time is {@link #tick}, randomness the injected {@link RandomSource}.
 *
 * <pre>
 * role transitions            on
 * FOLLOWER      -> PRE_CANDIDATE  election timeout, pre-vote on
 * FOLLOWER      -> CANDIDATE      election timeout (pre-vote off), or TIMEOUT_NOW
 * PRE_CANDIDATE -> CANDIDATE      pre-votes of a quorum
 * CANDIDATE     -> LEADER         votes of a quorum
 * any           -> FOLLOWER       a message of a higher term, or of the current term from a leader
 * LEADER        -> FOLLOWER       check-quorum failed, or removed from the group
 * </pre>
 */
final class Raft {
  static final long NONE = 0;
  static final byte[] CAMPAIGN_TRANSFER = "CampaignTransfer".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  enum CampaignType {
    PRE_ELECTION,
    ELECTION,
    TRANSFER
  }

  final long id;
  long term;
  long vote;
  List<ReadState> readStates = new ArrayList<>();
  final RaftLog raftLog;
  final long maxMsgSize;
  final long maxUncommittedSize;
  ProgressTracker trk;
  StateType state = StateType.FOLLOWER;
  boolean isLearner;
  List<Message> msgs = new ArrayList<>();
  long lead = NONE;
  /** The node leadership is being handed to, or NONE. */
  long leadTransferee = NONE;
  /** Raft thesis §4.1: at most one unapplied conf change; the index of the latest one. */
  long pendingConfIndex;
  /** Bytes of entry payload appended by this leader and not yet committed. */
  long uncommittedSize;
  ReadOnly readOnly = new ReadOnly();
  final ReadOnlyOption readOnlyOption;
  int electionElapsed;
  int heartbeatElapsed;
  final boolean checkQuorum;
  final boolean preVote;
  final int heartbeatTimeout;
  final int electionTimeout;
  int randomizedElectionTimeout;
  final boolean disableProposalForwarding;
  final RandomSource random;
  final Config config;
  /** Ticks since this object was created: the clock of leases. */
  long tickCount;
  /**
   * Set after a restart with lease reads on: a restarted follower forgot which leader it heard
   * from, so it refuses votes until an election timeout has passed, lest it help elect a new
   * leader while the old one still holds a lease it granted before crashing.
   */
  boolean voteGuard;
  final Leader leader;
  /** Test hook: grant votes without the log up-to-date check (breaks Raft §5.4.1). */
  boolean bugSkipElectionRestriction;
  /** Test hook: grant a vote in a term even when already voted for another node. */
  boolean bugDoubleVote;

  Raft(Config c, Storage storage) {
    c.validate();
    this.config = c;
    this.id = c.id();
    this.raftLog = new RaftLog(storage, c.maxCommittedSizePerReady());
    this.maxMsgSize = c.maxSizePerMsg();
    this.maxUncommittedSize = c.maxUncommittedEntriesSize();
    this.trk = new ProgressTracker(c.maxInflightMsgs());
    this.electionTimeout = c.electionTick();
    this.heartbeatTimeout = c.heartbeatTick();
    this.checkQuorum = c.checkQuorum();
    this.preVote = c.preVote();
    this.readOnlyOption = c.readOnlyOption();
    this.disableProposalForwarding = c.disableProposalForwarding();
    this.random = c.random();
    this.leader = new Leader(this);

    Storage.InitialState is = storage.initialState();
    Changer.Result restored = Restore.restore(trk, raftLog.lastIndex(), is.confState());
    trk.reset(restored.config(), restored.progress());
    Progress self = trk.get(id);
    isLearner = self != null && self.isLearner();
    if (!is.hardState().isEmpty()) {
      loadState(is.hardState());
    }
    if (c.applied() > 0) {
      raftLog.appliedTo(c.applied());
    }
    voteGuard = c.readOnlyOption() == ReadOnlyOption.LEASE_BASED && c.restarted() && term > 0;
    becomeFollower(term, NONE);
  }

  private void loadState(HardState hs) {
    if (hs.commit() < raftLog.committed || hs.commit() > raftLog.lastIndex()) {
      throw new IllegalStateException(
          "[" + id + "] hard state commit " + hs.commit() + " is out of range ["
              + raftLog.committed + ", " + raftLog.lastIndex() + "]");
    }
    raftLog.committed = hs.commit();
    term = hs.term();
    vote = hs.vote();
  }

  HardState hardState() {
    return new HardState(term, vote, raftLog.committed);
  }

  SoftState softState() {
    return new SoftState(lead, state);
  }

  boolean hasLeader() {
    return lead != NONE;
  }

  // ---------------------------------------------------------------- sending

  /** Queues a message; attaches this node's id (unless forwarded) and, where it belongs, the current term. */
  void send(Message.Builder b) {
    Message m = b.build();
    if (m.from() == NONE) {
      // NB: a forwarded TRANSFER_LEADER keeps its sender, the transferee (etcd does the same).
      m = m.toBuilder().from(id).build();
    }
    MessageType t = m.type();
    if (t == MessageType.VOTE || t == MessageType.VOTE_RESP
        || t == MessageType.PRE_VOTE || t == MessageType.PRE_VOTE_RESP) {
      if (m.term() == 0) {
        // NB: vote messages carry the term they are for, which may not be ours (pre-vote).
        throw new IllegalStateException("term should be set when sending " + t);
      }
    } else {
      if (m.term() != 0) {
        throw new IllegalStateException("term should not be set when sending " + t + " (was " + m.term() + ")");
      }
      // Proposals and read requests are forwarded as local messages: no term.
      if (t != MessageType.PROPOSE && t != MessageType.READ_INDEX) {
        m = m.toBuilder().term(term).build();
      }
    }
    msgs.add(m);
  }

  // ---------------------------------------------------------------- role transitions

  void becomeFollower(long term, long lead) {
    reset(term);
    this.lead = lead;
    state = StateType.FOLLOWER;
  }

  void becomeCandidate() {
    if (state == StateType.LEADER) {
      throw new IllegalStateException("[" + id + "] invalid transition [leader -> candidate]");
    }
    reset(term + 1);
    vote = id;
    state = StateType.CANDIDATE;
  }

  void becomePreCandidate() {
    if (state == StateType.LEADER) {
      throw new IllegalStateException("[" + id + "] invalid transition [leader -> pre-candidate]");
    }
    // Raft thesis §9.6: a pre-candidate changes neither its term nor its vote.
    trk.resetVotes();
    lead = NONE;
    state = StateType.PRE_CANDIDATE;
  }

  void becomeLeader() {
    if (state == StateType.FOLLOWER) {
      throw new IllegalStateException("[" + id + "] invalid transition [follower -> leader]");
    }
    reset(term);
    lead = id;
    state = StateType.LEADER;
    Progress self = trk.get(id);
    self.becomeReplicate();
    self.setRecentActive(true);
    // Conservatively treat everything in the log as a possible unapplied conf change.
    pendingConfIndex = raftLog.lastIndex();
    // Raft §5.4.2: an entry of its own term lets the leader commit everything before it.
    if (!appendEntry(List.of(Entry.empty(0, 0)))) {
      throw new IllegalStateException("[" + id + "] empty entry was dropped");
    }
  }

  private void reset(long term) {
    if (this.term != term) {
      this.term = term;
      vote = NONE;
    }
    lead = NONE;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    resetRandomizedElectionTimeout();
    abortLeaderTransfer();
    trk.resetVotes();
    long lastIndex = raftLog.lastIndex();
    // NB: only persisted entries count for this node's own match; see onPersisted.
    long lastStable = Math.min(lastIndex, raftLog.unstable.offset - 1);
    trk.visit((pid, pr) -> {
      pr.becomeProbe();
      pr.setMatch(pid == id ? lastStable : 0);
      pr.setNext(lastIndex + 1);
      pr.setMsgAppFlowPaused(false);
      pr.setRecentActive(false);
    });
    pendingConfIndex = 0;
    uncommittedSize = 0;
    readOnly = new ReadOnly();
    leader.reset();
  }

  void resetRandomizedElectionTimeout() {
    randomizedElectionTimeout = electionTimeout + random.nextInt(electionTimeout);
  }

  void abortLeaderTransfer() {
    leadTransferee = NONE;
  }

  /** Whether this node may become leader: a voter with no snapshot waiting to be installed. */
  boolean promotable() {
    Progress pr = trk.get(id);
    return pr != null && !pr.isLearner() && !raftLog.hasNextUnstableSnapshot();
  }

  // ---------------------------------------------------------------- ticks

  void tick() {
    tickCount++;
    if (voteGuard && tickCount >= electionTimeout) {
      voteGuard = false;
    }
    if (state == StateType.LEADER) {
      tickHeartbeat();
    } else {
      tickElection();
    }
  }

  private void tickElection() {
    electionElapsed++;
    if (promotable() && electionElapsed >= randomizedElectionTimeout) {
      electionElapsed = 0;
      step(Message.builder(MessageType.HUP).from(id).build());
    }
  }

  private void tickHeartbeat() {
    heartbeatElapsed++;
    electionElapsed++;
    if (electionElapsed >= electionTimeout) {
      electionElapsed = 0;
      if (checkQuorum) {
        step(Message.builder(MessageType.CHECK_QUORUM).from(id).build());
      }
      // A transfer that has not finished within an election timeout is abandoned.
      if (state == StateType.LEADER && leadTransferee != NONE) {
        abortLeaderTransfer();
      }
    }
    if (state != StateType.LEADER) {
      return;
    }
    if (heartbeatElapsed >= heartbeatTimeout) {
      heartbeatElapsed = 0;
      step(Message.builder(MessageType.BEAT).from(id).build());
    }
  }

  // ---------------------------------------------------------------- elections

  private void hup(CampaignType t) {
    if (state == StateType.LEADER || !promotable()) {
      return;
    }
    if (hasUnappliedConfChanges()) {
      // Campaigning now could make a leader that does not know its own configuration.
      return;
    }
    campaign(t);
  }

  private boolean hasUnappliedConfChanges() {
    if (raftLog.applied >= raftLog.committed) {
      return false;
    }
    long lo = Math.max(raftLog.applied + 1, raftLog.firstIndex());
    if (lo > raftLog.committed) {
      return false;
    }
    for (Entry e : raftLog.slice(lo, raftLog.committed + 1, Long.MAX_VALUE)) {
      if (e.type() == EntryType.CONF_CHANGE) {
        return true;
      }
    }
    return false;
  }

  void campaign(CampaignType t) {
    if (!promotable()) {
      return;
    }
    long voteTerm;
    MessageType voteMsg;
    if (t == CampaignType.PRE_ELECTION) {
      becomePreCandidate();
      voteMsg = MessageType.PRE_VOTE;
      // Pre-vote asks for the term it would campaign in, without moving to it.
      voteTerm = term + 1;
    } else {
      becomeCandidate();
      voteMsg = MessageType.VOTE;
      voteTerm = term;
    }
    if (poll(id, true) == VoteResult.WON) {
      // A single-voter group wins at once.
      if (t == CampaignType.PRE_ELECTION) {
        campaign(CampaignType.ELECTION);
      } else {
        becomeLeader();
      }
      return;
    }
    long lastIndex = raftLog.lastIndex();
    long lastTerm = raftLog.lastTerm();
    for (long peer : trk.config().voters().ids()) {
      if (peer == id) {
        continue;
      }
      send(Message.builder(voteMsg)
          .to(peer)
          .term(voteTerm)
          .index(lastIndex)
          .logTerm(lastTerm)
          .context(t == CampaignType.TRANSFER ? CAMPAIGN_TRANSFER : null));
    }
  }

  private VoteResult poll(long from, boolean granted) {
    trk.recordVote(from, granted);
    return trk.tallyVotes().result();
  }

  // ---------------------------------------------------------------- step

  /** The entry point of every message, local or remote. */
  void step(Message m) {
    if (m.term() == 0) {
      // local message
    } else if (m.term() > term) {
      if (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE) {
        boolean force = Arrays.equals(m.context(), CAMPAIGN_TRANSFER);
        boolean inLease =
            checkQuorum && ((lead != NONE && electionElapsed < electionTimeout) || voteGuard);
        if (!force && inLease) {
          // Raft thesis §4.2.3: while we hear from a leader, a disruptive candidate is ignored.
          return;
        }
      }
      if (m.type() == MessageType.PRE_VOTE) {
        // A pre-vote request never changes our term.
      } else if (m.type() == MessageType.PRE_VOTE_RESP && !m.reject()) {
        // A granted pre-vote answers with the future term; we move to it only when we campaign.
      } else if (m.type() == MessageType.APP
          || m.type() == MessageType.HEARTBEAT
          || m.type() == MessageType.SNAPSHOT) {
        becomeFollower(m.term(), m.from());
      } else {
        becomeFollower(m.term(), NONE);
      }
    } else if (m.term() < term) {
      if ((checkQuorum || preVote)
          && (m.type() == MessageType.HEARTBEAT || m.type() == MessageType.APP)) {
        // A stale leader learns of the newer term from this answer and steps down; this also
        // frees a node that was partitioned and is stuck at a higher term (pre-vote, check-quorum).
        send(Message.builder(MessageType.APP_RESP).to(m.from()));
      } else if (m.type() == MessageType.PRE_VOTE) {
        send(Message.builder(MessageType.PRE_VOTE_RESP).to(m.from()).term(term).reject(true));
      }
      return;
    }

    switch (m.type()) {
      case HUP -> hup(preVote ? CampaignType.PRE_ELECTION : CampaignType.ELECTION);
      case VOTE, PRE_VOTE -> handleVoteRequest(m);
      default -> {
        switch (state) {
          case LEADER -> leader.step(m);
          case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
          case FOLLOWER -> stepFollower(m);
          default -> throw new IllegalStateException("unknown state " + state);
        }
      }
    }
  }

  private void handleVoteRequest(Message m) {
    // Raft §5.2: one vote per term; a repeated request from the same candidate is granted again.
    boolean canVote =
        vote == m.from()
            || (vote == NONE && lead == NONE)
            || (m.type() == MessageType.PRE_VOTE && m.term() > term)
            || (bugDoubleVote && m.type() == MessageType.VOTE);
    // Raft §5.4.1: only for a candidate whose log is at least as up to date as ours.
    if (canVote && (bugSkipElectionRestriction || raftLog.isUpToDate(m.index(), m.logTerm()))) {
      send(Message.builder(m.type().voteResponse()).to(m.from()).term(m.term()));
      if (m.type() == MessageType.VOTE) {
        electionElapsed = 0;
        vote = m.from();
      }
    } else {
      send(Message.builder(m.type().voteResponse()).to(m.from()).term(term).reject(true));
    }
  }

  private void stepCandidate(Message m) {
    MessageType myVoteResp =
        state == StateType.PRE_CANDIDATE ? MessageType.PRE_VOTE_RESP : MessageType.VOTE_RESP;
    switch (m.type()) {
      case PROPOSE -> throw new ProposalDroppedException(
          ProposalDroppedException.Reason.NO_LEADER, "node " + id + " is campaigning in term " + term);
      case READ_INDEX -> throw new ProposalDroppedException(
          ProposalDroppedException.Reason.NO_LEADER, "node " + id + " is campaigning in term " + term);
      case APP -> {
        // Raft §5.2: a candidate that hears from a leader of its term becomes its follower.
        becomeFollower(m.term(), m.from());
        handleAppendEntries(m);
      }
      case HEARTBEAT -> {
        becomeFollower(m.term(), m.from());
        handleHeartbeat(m);
      }
      case SNAPSHOT -> {
        becomeFollower(m.term(), m.from());
        handleSnapshot(m);
      }
      default -> {
        if (m.type() == myVoteResp) {
          VoteResult r = poll(m.from(), !m.reject());
          if (r == VoteResult.WON) {
            if (state == StateType.PRE_CANDIDATE) {
              campaign(CampaignType.ELECTION);
            } else {
              becomeLeader();
              leader.bcastAppend();
            }
          } else if (r == VoteResult.LOST) {
            // A lost pre-vote (or vote) returns to follower at the current term.
            becomeFollower(term, NONE);
          }
        }
        // TIMEOUT_NOW and others: a candidate ignores them.
      }
    }
  }

  private void stepFollower(Message m) {
    switch (m.type()) {
      case PROPOSE -> {
        if (lead == NONE) {
          throw new ProposalDroppedException(
              ProposalDroppedException.Reason.NO_LEADER, "node " + id + " knows no leader in term " + term);
        }
        if (disableProposalForwarding) {
          throw new ProposalDroppedException(
              ProposalDroppedException.Reason.FORWARDING_DISABLED, "node " + id + " is not the leader (" + lead + ")");
        }
        send(m.toBuilder().to(lead).term(0));
      }
      case APP -> {
        electionElapsed = 0;
        lead = m.from();
        handleAppendEntries(m);
      }
      case HEARTBEAT -> {
        electionElapsed = 0;
        lead = m.from();
        handleHeartbeat(m);
      }
      case SNAPSHOT -> {
        electionElapsed = 0;
        lead = m.from();
        handleSnapshot(m);
      }
      case TRANSFER_LEADER -> {
        if (lead != NONE) {
          send(m.toBuilder().to(lead).term(0));
        }
      }
      case TIMEOUT_NOW -> hup(CampaignType.TRANSFER);
      case READ_INDEX -> {
        if (lead == NONE) {
          throw new ProposalDroppedException(
              ProposalDroppedException.Reason.NO_LEADER, "node " + id + " knows no leader for a read");
        }
        send(m.toBuilder().to(lead).term(0));
      }
      case READ_INDEX_RESP -> {
        if (m.entries().size() == 1) {
          readStates.add(new ReadState(m.index(), m.entries().get(0).data()));
        }
      }
      default -> {
        // Responses meant for a leader or candidate of this term: stale, ignore.
      }
    }
  }

  // ---------------------------------------------------------------- follower handlers

  void handleAppendEntries(Message m) {
    if (m.index() < raftLog.committed) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(raftLog.committed));
      return;
    }
    long lastNew = raftLog.maybeAppend(m.index(), m.logTerm(), m.commit(), m.entries());
    if (lastNew >= 0) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(lastNew));
      return;
    }
    // Fast backtracking: tell the leader where our log could match, one term at a time.
    long hintIndex = Math.min(m.index(), raftLog.lastIndex());
    long[] hint = raftLog.findConflictByTerm(hintIndex, m.logTerm());
    send(Message.builder(MessageType.APP_RESP)
        .to(m.from())
        .index(m.index())
        .reject(true)
        .rejectHint(hint[0])
        .logTerm(hint[1]));
  }

  void handleHeartbeat(Message m) {
    // The leader sends min(match, committed): an index our log already shares with it.
    raftLog.commitTo(m.commit());
    send(Message.builder(MessageType.HEARTBEAT_RESP).to(m.from()).index(m.index()).context(m.context()));
  }

  void handleSnapshot(Message m) {
    Snapshot s = m.snapshot();
    if (restore(s)) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(raftLog.lastIndex()));
    } else {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(raftLog.committed));
    }
  }

  /** Installs a snapshot unless the log already covers it. Returns whether it was installed. */
  boolean restore(Snapshot s) {
    if (s == null || s.index() <= raftLog.committed) {
      return false;
    }
    if (state != StateType.FOLLOWER) {
      // Defensive: only followers get snapshots. Become one at a higher term to be safe.
      becomeFollower(term + 1, NONE);
      return false;
    }
    ConfState cs = s.metadata().confState();
    // NB: unlike etcd, a snapshot whose configuration does not include us is installed too: a
    // peer added after the leader's latest snapshot needs exactly that one, and the entries after
    // it add the peer. A node that is not in its own configuration cannot campaign.
    if (raftLog.matchTerm(s.index(), s.term())) {
      // We have the entry already: fast-forward the commit index instead.
      raftLog.commitTo(s.index());
      return false;
    }
    raftLog.restore(s);
    trk = new ProgressTracker(config.maxInflightMsgs());
    Changer.Result r = Restore.restore(trk, raftLog.lastIndex(), cs);
    trk.reset(r.config(), r.progress());
    Progress self = trk.get(id);
    isLearner = self != null && self.isLearner();
    return true;
  }

  // ---------------------------------------------------------------- log and conf changes

  /** Appends entries at the end of the leader's log; false if the uncommitted limit refuses them. */
  boolean appendEntry(List<Entry> es) {
    long li = raftLog.lastIndex();
    List<Entry> stamped = new ArrayList<>(es.size());
    for (int i = 0; i < es.size(); i++) {
      stamped.add(es.get(i).withTermIndex(term, li + 1 + i));
    }
    if (!increaseUncommittedSize(stamped)) {
      return false;
    }
    raftLog.append(stamped);
    // NB: the leader's own match moves when these entries are persisted (onPersisted).
    return true;
  }

  private boolean increaseUncommittedSize(List<Entry> ents) {
    long s = 0;
    for (Entry e : ents) {
      // NB: membership changes are not counted, so leaving a joint config is never refused.
      if (e.type() == EntryType.NORMAL) {
        s += e.data().length;
      }
    }
    if (uncommittedSize > 0 && s > 0 && maxUncommittedSize > 0 && uncommittedSize + s > maxUncommittedSize) {
      return false;
    }
    uncommittedSize += s;
    return true;
  }

  void reduceUncommittedSize(List<Entry> ents) {
    long s = 0;
    for (Entry e : ents) {
      if (e.type() == EntryType.NORMAL) {
        s += e.data().length;
      }
    }
    uncommittedSize = Math.max(0, uncommittedSize - s);
  }

  /** Entries up to {@code (index, term)} are persisted; a leader counts itself now (thesis §10.2.1). */
  void onPersisted(long index, long logTerm) {
    if (state != StateType.LEADER || raftLog.termOrMinus(index) != logTerm) {
      return;
    }
    Progress self = trk.get(id);
    if (self != null && self.maybeUpdate(index)) {
      leader.onCommitMaybeAdvanced();
    }
  }

  /** Raft §5.4.2: commit the quorum-acknowledged index, if it is an entry of this term. */
  boolean maybeCommit() {
    long mci = trk.committed();
    return raftLog.maybeCommit(mci, term);
  }

  /**
   * With lease reads, a follower that still hears from its leader must not start an election on
   * request: the leader's lease counts on followers waiting out an election timeout first.
   */
  boolean campaignWouldBreakLease() {
    return readOnlyOption == ReadOnlyOption.LEASE_BASED
        && ((lead != NONE && electionElapsed < electionTimeout) || voteGuard);
  }

  boolean committedEntryInCurrentTerm() {
    return raftLog.termOrMinus(raftLog.committed) == term;
  }

  /** The state machine handed out entries up to {@code index}; leave a joint config if due. */
  void appliedTo(long index, List<Entry> applied) {
    raftLog.appliedTo(index);
    reduceUncommittedSize(applied);
    if (trk.config().autoLeave() && index >= pendingConfIndex && state == StateType.LEADER) {
      try {
        step(Message.builder(MessageType.PROPOSE)
            .from(id)
            .entries(List.of(ConfChange.leaveJoint().toEntry()))
            .build());
      } catch (ProposalDroppedException e) {
        // Retried at the next advance.
      }
    }
  }

  /** Applies a committed conf change to the tracker. Invalid changes leave the config as is. */
  ConfState applyConfChange(ConfChange cc) {
    Changer changer = new Changer(trk, raftLog.lastIndex());
    Changer.Result r;
    try {
      if (cc.isLeaveJoint()) {
        r = changer.leaveJoint();
      } else if (cc.enterJointAutoLeave() != null) {
        r = changer.enterJoint(cc.enterJointAutoLeave(), cc.changes());
      } else {
        r = changer.simple(cc.changes());
      }
    } catch (InvalidConfChangeException e) {
      // Every replica reaches the same verdict at the same index: a deterministic no-op.
      return trk.confState();
    }
    return switchToConfig(r);
  }

  /** Validates a conf change against the current config without applying it. */
  void checkConfChange(ConfChange cc) {
    Changer changer = new Changer(trk, raftLog.lastIndex());
    try {
      if (cc.isLeaveJoint()) {
        changer.leaveJoint();
      } else if (cc.enterJointAutoLeave() != null) {
        changer.enterJoint(cc.enterJointAutoLeave(), cc.changes());
      } else {
        changer.simple(cc.changes());
      }
    } catch (InvalidConfChangeException e) {
      throw new ProposalDroppedException(ProposalDroppedException.Reason.INVALID_CONF_CHANGE, e.getMessage());
    }
  }

  private ConfState switchToConfig(Changer.Result r) {
    trk.reset(r.config(), r.progress());
    ConfState cs = trk.confState();
    Progress self = trk.get(id);
    isLearner = self != null && self.isLearner();
    if ((self == null || isLearner) && state == StateType.LEADER) {
      // A leader removed (or demoted) by the change steps down; the rest elect a new leader.
      becomeFollower(term, NONE);
      return cs;
    }
    if (state != StateType.LEADER || cs.voters().isEmpty()) {
      return cs;
    }
    // The new quorum may commit what the old one could not (e.g. after removing a node).
    if (maybeCommit()) {
      leader.onCommitted();
    } else {
      trk.visit((pid, pr) -> {
        if (pid != id) {
          leader.maybeSendAppend(pid, false);
        }
      });
    }
    if (leadTransferee != NONE && !trk.config().voters().contains(leadTransferee)) {
      abortLeaderTransfer();
    }
    return cs;
  }

  /** Used by {@link Leader}: a follower's progress in snapshot state failed to receive it. */
  static void abortSnapshot(Progress pr) {
    if (pr.state() == ProgressState.SNAPSHOT) {
      pr.becomeSnapshot(0); // drops the pending snapshot index
      pr.becomeProbe(); // next = match + 1
    }
  }
}
