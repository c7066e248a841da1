package io.flotilla.region.driver;

import io.flotilla.engine.raft.ConfChange;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.EntryType;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.flotilla.engine.raft.ProposalDroppedException;
import io.flotilla.engine.raft.RawNode;
import io.flotilla.engine.raft.ReadState;
import io.flotilla.engine.raft.Ready;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.StateType;
import io.flotilla.engine.raft.UnavailableException;
import io.flotilla.engine.raft.tracker.ProgressState;
import io.flotilla.region.storage.RocksRaftStorage;
import io.flotilla.region.storage.StorageBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Raft group on this node: its {@link RawNode}, storage, state machine and mailbox.
 *
 * <p>Threads: anyone may add to {@link #mailbox} and then call {@link RaftDriver#schedule}; every
 * other method runs on the one poller thread that currently owns the group (ownership passes
 * through the driver's run queue and {@link #scheduled}, which orders memory).
 */
final class RaftGroup {
  private static final Logger LOG = LoggerFactory.getLogger(RaftGroup.class);

  private record PendingProposal(long term, Answer<?> result, long deadlineNanos, Object parsed) {}

  private record PendingRead(CompletableFuture<Long> result, long deadlineNanos) {}

  private record Completion(long index, long term, Object result) {}

  final long id;
  final RawNode raw;
  final RocksRaftStorage storage;
  private final StateMachine<?> sm;
  private final RaftDriver driver;
  final ConcurrentLinkedQueue<GroupEvent> mailbox = new ConcurrentLinkedQueue<>();
  final AtomicBoolean scheduled = new AtomicBoolean();
  /** Read by the ticker: a hibernating group is not ticked. */
  volatile boolean hibernating;
  volatile boolean destroyed;
  /** Published at the end of each round for other threads. */
  volatile RaftDriver.GroupInfo info = RaftDriver.GroupInfo.INITIAL;

  private long lastTick;
  private int quietTicks;
  private boolean heardSinceTick;
  /** The node this hibernating follower's leader is on (registered with the driver), or 0. */
  private long hibernatedUnder;
  /** Written by the owner; read by other threads in {@link #peersOn}. */
  private volatile ConfState confState;
  private long appliedIndex;
  /** In {@link #persist}: entries are being applied into the round's batch, not yet in RocksDB. */
  private boolean persisting;
  /** A Ready with a snapshot, waiting for {@link StateMachine#prepareRestore} on the worker. */
  private Ready restoring;
  private volatile boolean restorePrepared;
  private volatile CompletableFuture<Void> restoreDone;
  private final TreeMap<Long, PendingProposal> proposals = new TreeMap<>();
  /** Reads waiting for their ReadIndex round, by its context: one round serves a whole batch. */
  private final Map<Long, List<PendingRead>> readsByCtx = new HashMap<>();
  private final List<PendingRead> readBatch = new ArrayList<>();
  private final TreeMap<Long, List<PendingRead>> readsAwaitingApply = new TreeMap<>();
  private long readSeq;
  private final List<Completion> completions = new ArrayList<>();
  private final List<byte[]> proposalBatch = new ArrayList<>();
  private final List<GroupEvent.Propose> proposalBatchEvents = new ArrayList<>();

  RaftGroup(long id, RawNode raw, RocksRaftStorage storage, StateMachine<?> sm, RaftDriver driver, long tick) {
    this.id = id;
    this.raw = raw;
    this.storage = storage;
    this.sm = sm;
    this.driver = driver;
    this.confState = storage.confState();
    this.appliedIndex = storage.appliedIndex();
    this.lastTick = tick;
  }

  @Override
  public String toString() {
    return "[group=" + id + " peer=" + raw.id() + " term=" + raw.term() + "]";
  }

  // ------------------------------------------------------------------ events

  /** Drains the mailbox and catches up on ticks. */
  void handleEvents(long globalTick) {
    GroupEvent e;
    while ((e = mailbox.poll()) != null) {
      handle(e);
    }
    flushProposals();
    flushReads();
    if (hibernating) {
      lastTick = globalTick;
      return;
    }
    long missed = globalTick - lastTick;
    lastTick = globalTick;
    if (missed <= 0) {
      return;
    }
    if (missed > driver.config().electionTick()) {
      // The timer fell far behind: ticks no longer measure time well enough for a lease.
      raw.invalidateLease();
      missed = driver.config().electionTick();
    }
    for (long i = 0; i < missed; i++) {
      raw.tick();
    }
    expireDeadlines(System.nanoTime());
    maybeHibernate((int) missed);
  }

  private void handle(GroupEvent e) {
    if (e instanceof GroupEvent.Inbound in) {
      Message m = in.message();
      // NB: heartbeats and their answers keep a hibernating group asleep; anything else wakes it.
      boolean keepsAsleep = m.type() == MessageType.HEARTBEAT_RESP
          || (m.type() == MessageType.HEARTBEAT && m.from() == raw.lead() && m.term() == raw.term());
      if (!keepsAsleep) {
        wake();
      }
      heardSinceTick = true;
      raw.step(m);
    } else if (e instanceof GroupEvent.Propose p) {
      wake();
      proposalBatch.add(p.data());
      proposalBatchEvents.add(p);
    } else if (e instanceof GroupEvent.ProposeConfChange p) {
      wake();
      flushProposals();
      proposeConfChange(p);
    } else if (e instanceof GroupEvent.Read r) {
      wake();
      readBatch.add(new PendingRead(r.result(), r.deadlineNanos()));
    } else if (e instanceof GroupEvent.TransferLeader t) {
      wake();
      raw.transferLeader(t.toPeer());
    } else if (e instanceof GroupEvent.Campaign) {
      wake();
      raw.campaign();
    } else if (e instanceof GroupEvent.SnapshotStatus s) {
      raw.reportSnapshot(s.toPeer(), s.success());
    } else if (e instanceof GroupEvent.Unreachable u) {
      raw.reportUnreachable(u.peer());
    } else if (e instanceof GroupEvent.Wake) {
      wake();
    } else if (e instanceof GroupEvent.PendingPeers q) {
      q.result().complete(pendingPeers());
    } else {
      throw new IllegalStateException("unknown event " + e);
    }
  }

  /** Proposes everything queued this round as one batch of entries (one append per follower). */
  private void flushProposals() {
    if (proposalBatch.isEmpty()) {
      return;
    }
    List<byte[]> data = new ArrayList<>(proposalBatch);
    List<GroupEvent.Propose> events = new ArrayList<>(proposalBatchEvents);
    proposalBatch.clear();
    proposalBatchEvents.clear();
    if (raw.state() != StateType.LEADER) {
      NotLeaderException nle = notLeader();
      events.forEach(p -> p.result().completeExceptionally(nle));
      return;
    }
    try {
      raw.proposeAll(data);
    } catch (ProposalDroppedException ex) {
      DroppedException de = new DroppedException("group " + id + ": " + ex.getMessage());
      events.forEach(p -> p.result().completeExceptionally(de));
      return;
    }
    long index = raw.lastIndex() - events.size() + 1;
    long term = raw.term();
    for (GroupEvent.Propose p : events) {
      proposals.put(index++, new PendingProposal(term, p.result(), p.deadlineNanos(), p.parsed()));
    }
  }

  private void proposeConfChange(GroupEvent.ProposeConfChange p) {
    if (raw.state() != StateType.LEADER) {
      p.result().completeExceptionally(notLeader());
      return;
    }
    try {
      raw.proposeConfChange(p.change());
    } catch (ProposalDroppedException ex) {
      p.result().completeExceptionally(new DroppedException("group " + id + ": " + ex.getMessage()));
      return;
    }
    proposals.put(raw.lastIndex(), new PendingProposal(raw.term(), p.result(), p.deadlineNanos(), null));
  }

  /**
   * Asks for ONE read index for every read queued this round (one heartbeat round with ReadIndex,
   * not one per read): each of them arrived before the request, so the commit index it confirms
   * is at least the one each read needs to be linearizable.
   */
  private void flushReads() {
    if (readBatch.isEmpty()) {
      return;
    }
    List<PendingRead> reads = new ArrayList<>(readBatch);
    readBatch.clear();
    long ctx = ++readSeq;
    try {
      raw.readIndex(ByteBuffer.allocate(8).putLong(ctx).array());
      readsByCtx.put(ctx, reads);
    } catch (ProposalDroppedException ex) {
      NotLeaderException nle = notLeader();
      reads.forEach(r -> r.result().completeExceptionally(nle));
    }
  }

  private NotLeaderException notLeader() {
    long lead = raw.lead();
    return new NotLeaderException(id, lead == 0 ? 0 : driver.routing().nodeOf(id, lead));
  }

  // ------------------------------------------------------------------ hibernation

  private void wake() {
    if (!hibernating) {
      return;
    }
    hibernating = false;
    driver.setAwake(this, true);
    quietTicks = 0;
    // While it did not tick, time went on: no lease until a fresh heartbeat round.
    raw.invalidateLease();
    if (hibernatedUnder != 0) {
      driver.unregisterHibernated(hibernatedUnder, this);
      hibernatedUnder = 0;
    }
    driver.counters().wakes.increment();
  }

  private void maybeHibernate(int ticks) {
    if (!driver.config().hibernate()) {
      return;
    }
    boolean quiet;
    long leaderNode = 0;
    if (raw.state() == StateType.LEADER) {
      quiet = raw.quiescent() && proposals.isEmpty() && readsByCtx.isEmpty() && readsAwaitingApply.isEmpty();
    } else {
      leaderNode = raw.lead() == 0 ? 0 : driver.routing().nodeOf(id, raw.lead());
      quiet = !heardSinceTick
          && raw.state() == StateType.FOLLOWER
          && leaderNode != 0
          && raw.committed() == raw.lastIndex()
          && appliedIndex == raw.committed()
          && isVoter(raw.lead())
          && readsByCtx.isEmpty()
          && driver.nodeAlive(leaderNode);
    }
    heardSinceTick = false;
    quietTicks = quiet ? quietTicks + ticks : 0;
    if (quietTicks >= driver.config().hibernateAfterTicks()) {
      hibernating = true;
      driver.setAwake(this, false);
      quietTicks = 0;
      if (leaderNode != 0) {
        hibernatedUnder = leaderNode;
        driver.registerHibernated(leaderNode, this);
      }
      driver.counters().hibernations.increment();
    }
  }

  // ------------------------------------------------------------------ readies

  /** Whether {@code peer} votes in the membership last applied (either half of a joint one). */
  private boolean isVoter(long peer) {
    ConfState cs = confState;
    return cs.voters().contains(peer) || cs.votersOutgoing().contains(peer);
  }

  /** Peers of this group hosted on {@code node}, by the membership last applied. */
  List<Long> peersOn(long node) {
    ConfState cs = confState;
    List<Long> out = new ArrayList<>(1);
    for (List<Long> ids : List.of(cs.voters(), cs.learners(), cs.votersOutgoing())) {
      for (long peer : ids) {
        if (driver.routing().nodeOf(id, peer) == node && !out.contains(peer)) {
          out.add(peer);
        }
      }
    }
    return out;
  }

  void publishInfo() {
    RaftDriver.GroupInfo before = info;
    info = new RaftDriver.GroupInfo(raw.state(), raw.lead(), raw.term(), appliedIndex);
    if (info.role() == StateType.LEADER && !destroyed
        && (before.role() != StateType.LEADER || before.term() != info.term())) {
      driver.onBecameLeader(id, info.term());
    }
  }

  /**
   * On a leader: the peers whose log ends before this leader's first entry (they need a snapshot)
   * or that are being sent one. Empty on a follower.
   */
  private List<Long> pendingPeers() {
    if (raw.state() != StateType.LEADER) {
      return List.of();
    }
    long truncated = storage.firstIndex() - 1;
    List<Long> out = new ArrayList<>();
    raw.status().progress().forEach((peer, pr) -> {
      if (peer != raw.id() && (pr.match() < truncated || pr.state() == ProgressState.SNAPSHOT)) {
        out.add(peer);
      }
    });
    return out;
  }

  /**
   * The group's next Ready, or null. A Ready that holds a snapshot is first handed to the driver's
   * restore worker ({@link StateMachine#prepareRestore}: ingest off the poller); the group returns
   * it from here once that is done, and the round only records the result.
   */
  Ready takeReady() {
    if (restoring != null) {
      if (!restorePrepared) {
        return null;
      }
      Ready rd = restoring;
      restoring = null;
      restorePrepared = false;
      return rd;
    }
    if (!raw.hasReady()) {
      return null;
    }
    Ready rd = raw.ready();
    if (rd.snapshot() == null) {
      return rd;
    }
    restoring = rd;
    byte[] data = rd.snapshot().data();
    long index = rd.snapshot().index();
    CompletableFuture<Void> prepared;
    try {
      prepared = CompletableFuture.runAsync(() -> sm.prepareRestore(id, data), driver.restoreWorker());
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return null; // NB: the driver is closing
    }
    restoreDone = prepared.whenComplete((v, ex) -> {
          if (ex != null) {
            driver.fail(new IllegalStateException(this + " cannot restore the snapshot at index " + index + ": "
                + ex.getMessage(), ex));
            return;
          }
          restorePrepared = true;
          mailbox.add(new GroupEvent.Wake());
          driver.schedule(this);
        });
    return null;
  }

  /** Completes once no restore worker runs for this group (destroy waits for it). */
  CompletableFuture<Void> restoreIdle() {
    CompletableFuture<Void> r = restoreDone;
    return r == null ? CompletableFuture.completedFuture(null) : r.handle((v, ex) -> null);
  }

  void send(List<Message> msgs) {
    for (Message m : msgs) {
      long node = driver.routing().nodeOf(id, m.to());
      if (node == 0) {
        continue;
      }
      if (m.type() == MessageType.SNAPSHOT) {
        long to = m.to();
        driver.counters().snapshotsSent.increment();
        driver.sendingSnapshots.incrementAndGet();
        driver.bus().sendSnapshot(node, id, m).whenComplete((v, ex) -> {
          driver.sendingSnapshots.decrementAndGet();
          if (ex != null) {
            LOG.warn("{} snapshot at {} to peer {} on node {} failed: {}", this, m.snapshot().index(), to, node,
                ex.toString());
          }
          mailbox.add(new GroupEvent.SnapshotStatus(to, ex == null));
          driver.schedule(this);
        });
      } else {
        driver.bus().send(node, id, m);
      }
    }
  }

  /** Puts a Ready's state and the effects of its committed entries into the round's batch. */
  void persist(Ready rd, StorageBatch wb) {
    persisting = true;
    try {
      persistReady(rd, wb);
    } finally {
      persisting = false;
    }
  }

  private void persistReady(Ready rd, StorageBatch wb) {
    Snapshot snap = rd.snapshot();
    if (snap != null) {
      wb.applySnapshot(id, snap.metadata());
      sm.restore(id, snap.data(), wb);
      appliedIndex = snap.index();
      confState = snap.metadata().confState();
      wb.setApplied(id, appliedIndex);
      driver.counters().snapshotsApplied.increment();
    }
    wb.append(id, rd.entries());
    if (rd.hardState() != null) {
      wb.setHardState(id, rd.hardState());
    }
    List<Entry> committed = rd.committedEntries();
    if (committed.isEmpty()) {
      return;
    }
    List<Entry> run = new ArrayList<>();
    for (Entry e : committed) {
      if (e.type() == EntryType.CONF_CHANGE) {
        applyRun(run, wb);
        ConfChange cc = ConfChange.decode(e.data());
        ConfState cs = raw.applyConfChange(cc);
        confState = cs;
        wb.setConfState(id, cs, e.index());
        completions.add(new Completion(e.index(), e.term(), sm.applyConfChange(id, cc, cs, e.index(), wb)));
        if (raw.state() != StateType.LEADER && raw.lead() != 0 && !isVoter(raw.lead())) {
          // NB: our leader was removed and will not speak again: tick, time out and elect.
          wake();
        }
      } else {
        run.add(e);
      }
    }
    applyRun(run, wb);
    appliedIndex = committed.get(committed.size() - 1).index();
    wb.setApplied(id, appliedIndex);
    maybeCompact(wb);
  }

  private void applyRun(List<Entry> run, StorageBatch wb) {
    if (run.isEmpty()) {
      return;
    }
    List<?> results = sm.apply(id, run, proposedWith(run), wb);
    for (int i = 0; i < run.size(); i++) {
      Entry e = run.get(i);
      completions.add(new Completion(e.index(), e.term(), results.get(i)));
    }
    driver.counters().applied.add(run.size());
    run.clear();
  }

  /**
   * What the proposers of {@code run}'s entries attached to them, where this replica proposed them
   * (same index and term); null when it proposed none (a follower).
   */
  private List<Object> proposedWith(List<Entry> run) {
    if (proposals.isEmpty()) {
      return null;
    }
    List<Object> out = null;
    for (int i = 0; i < run.size(); i++) {
      Entry e = run.get(i);
      PendingProposal p = proposals.get(e.index());
      if (p != null && p.term() == e.term() && p.parsed() != null) {
        if (out == null) {
          out = new ArrayList<>(Collections.nCopies(run.size(), null));
        }
        out.set(i, p.parsed());
      }
    }
    return out;
  }

  private void maybeCompact(StorageBatch wb) {
    long keep = driver.config().compactLogAfterEntries();
    if (appliedIndex - storage.firstIndex() + 1 <= keep) {
      return;
    }
    long compactTo = appliedIndex - keep / 2;
    if (compactTo >= storage.firstIndex()) {
      wb.compact(id, compactTo);
    }
  }

  /** After the round's batch is durable: send what waited for it, answer clients, advance. */
  void afterWrite(Ready rd) {
    send(rd.persistedMessages());
    for (Completion c : completions) {
      completeProposal(c);
    }
    completions.clear();
    for (ReadState rs : rd.readStates()) {
      List<PendingRead> reads = readsByCtx.remove(ByteBuffer.wrap(rs.requestCtx()).getLong());
      if (reads != null) {
        readsAwaitingApply.computeIfAbsent(rs.index(), k -> new ArrayList<>()).addAll(reads);
      }
    }
    raw.advance(rd);
    releaseReads();
  }

  private void completeProposal(Completion c) {
    // Anything proposed below this index that is still pending was overwritten.
    while (!proposals.isEmpty() && proposals.firstKey() < c.index()) {
      proposals.pollFirstEntry().getValue().result().completeExceptionally(
          new DroppedException("group " + id + ": entry was replaced by a new leader's log"));
    }
    PendingProposal p = proposals.get(c.index());
    if (p == null) {
      return;
    }
    proposals.remove(c.index());
    if (p.term() == c.term()) {
      p.result().complete(id, c.index(), c.result());
    } else {
      p.result().completeExceptionally(new DroppedException(
          "group " + id + ": index " + c.index() + " holds an entry of term " + c.term() + ", not ours (" + p.term() + ")"));
    }
  }

  private void releaseReads() {
    while (!readsAwaitingApply.isEmpty() && readsAwaitingApply.firstKey() <= appliedIndex) {
      for (PendingRead r : readsAwaitingApply.pollFirstEntry().getValue()) {
        r.result().complete(appliedIndex);
      }
    }
  }

  private void expireDeadlines(long now) {
    if (!proposals.isEmpty()) {
      Iterator<PendingProposal> it = proposals.values().iterator();
      while (it.hasNext()) {
        PendingProposal p = it.next();
        if (now - p.deadlineNanos() > 0) {
          it.remove();
          p.result().completeExceptionally(new OutcomeUnknownException(
              "group " + id + ": proposal not applied within " + driver.config().proposalTimeoutMs()
                  + " ms; it may still be"));
        }
      }
    }
    if (!readsByCtx.isEmpty()) {
      readsByCtx.values().removeIf(reads -> {
        reads.removeIf(r -> {
          if (now - r.deadlineNanos() > 0) {
            r.result().completeExceptionally(new OutcomeUnknownException(
                "group " + id + ": read not confirmed within " + driver.config().proposalTimeoutMs() + " ms"));
            return true;
          }
          return false;
        });
        return reads.isEmpty();
      });
    }
  }

  /**
   * A snapshot of the state as applied (the leader sends it to a lagging follower), from the state
   * machine: one it built earlier, or an {@link UnavailableException} while it builds one.
   * Refused while this round's committed entries are being applied (a conf change adding a peer
   * asks from inside {@link #persist}): the state machine's memory is then ahead of RocksDB and
   * of {@link #appliedIndex}; the core asks again on a later heartbeat response.
   */
  Snapshot buildSnapshot() {
    if (persisting) {
      throw new UnavailableException("group " + id + ": applying entries; snapshot after the round");
    }
    long index = appliedIndex;
    SnapshotMetadata meta = new SnapshotMetadata(confState, index, storage.term(index));
    return sm.snapshot(id, meta);
  }

  /** Fails everything pending: the group is being destroyed or the driver stopped. */
  void failAll(DriverException e) {
    failAll(e, e);
  }

  /**
   * Fails everything pending; proposals already in the log (which other replicas may still
   * commit) with {@code appended}, everything else with {@code e}.
   */
  void failAll(DriverException e, DriverException appended) {
    proposals.values().forEach(p -> p.result().completeExceptionally(appended));
    proposals.clear();
    readsByCtx.values().forEach(l -> l.forEach(r -> r.result().completeExceptionally(e)));
    readsByCtx.clear();
    readBatch.forEach(r -> r.result().completeExceptionally(e));
    readBatch.clear();
    readsAwaitingApply.values().forEach(l -> l.forEach(r -> r.result().completeExceptionally(e)));
    readsAwaitingApply.clear();
    GroupEvent ev;
    while ((ev = mailbox.poll()) != null) {
      if (ev instanceof GroupEvent.Propose p) {
        p.result().completeExceptionally(e);
      } else if (ev instanceof GroupEvent.ProposeConfChange p) {
        p.result().completeExceptionally(e);
      } else if (ev instanceof GroupEvent.Read r) {
        r.result().completeExceptionally(e);
      } else if (ev instanceof GroupEvent.PendingPeers q) {
        q.result().completeExceptionally(e);
      }
    }
  }
}
