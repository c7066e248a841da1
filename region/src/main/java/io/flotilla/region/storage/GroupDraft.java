package io.flotilla.region.storage;

import io.flotilla.engine.raft.CompactedException;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.UnavailableException;
import java.util.ArrayList;
import java.util.List;

/**
 * One group's pending changes in a {@link StorageBatch}: the group's state as it will be once the
 * batch is durable, and the RocksDB writes that make it so. Every operation first checks its
 * preconditions against that pending state (the same ones, with the same exceptions, as
 * {@link io.flotilla.engine.raft.MemoryStorage}) and changes nothing when one fails; only then does
 * it add writes. The state records (hard, apply, local) are written once, at {@link #flushState()}.
 *
 * <p>{@code pending} holds the entries appended in this batch that are still in the log: a run
 * {@code [pendingFirst, lastIndex]} (or empty). Entries below it come from the group's durable log.
 *
 * <p>The thread filling the batch only.
 */
final class GroupDraft {
  private final long groupId;
  private final RocksRaftStorage base;
  private final BatchWriter writer;
  private final boolean created;

  private HardState hardState;
  private ApplyState applyState;
  private LocalState localState;
  private long lastIndex;
  private boolean hardStateDirty;
  private boolean applyStateDirty;
  private boolean localStateDirty;
  private boolean destroyed;
  private boolean logDropped;
  private final ArrayList<Entry> pending = new ArrayList<>();
  private long pendingFirst;
  private long entriesPut;

  private GroupDraft(long groupId, RocksRaftStorage base, BatchWriter writer, boolean created,
      HardState hardState, ApplyState applyState, LocalState localState, long lastIndex) {
    this.groupId = groupId;
    this.base = base;
    this.writer = writer;
    this.created = created;
    this.hardState = hardState;
    this.applyState = applyState;
    this.localState = localState;
    this.lastIndex = lastIndex;
  }

  /** Changes to an existing group. */
  static GroupDraft of(RocksRaftStorage base, BatchWriter writer) {
    return new GroupDraft(base.groupId(), base, writer, false, base.hardState(), base.applyState(),
        base.localState(), base.lastIndex());
  }

  /** A group created by this batch, starting from {@code initial} membership and an empty log. */
  static GroupDraft create(long groupId, ConfState initial, BatchWriter writer) {
    GroupDraft d = new GroupDraft(groupId, null, writer, true, HardState.EMPTY, ApplyState.EMPTY,
        LocalState.initial(initial), 0);
    d.hardStateDirty = true;
    d.applyStateDirty = true;
    d.localStateDirty = true;
    return d;
  }

  /** Appends entries, replacing a conflicting suffix; see {@link StorageBatch#append}. */
  void append(List<Entry> entries) {
    checkLive();
    if (entries.isEmpty()) {
      return;
    }
    long first = applyState.truncatedIndex() + 1;
    long e0 = entries.get(0).index();
    long last = e0 + entries.size() - 1;
    if (last < first) {
      return;
    }
    checkContiguous(entries);
    if (first > e0) {
      entries = entries.subList((int) (first - e0), entries.size());
      e0 = first;
    }
    if (e0 > lastIndex + 1) {
      throw new IllegalStateException("group " + groupId + ": missing log entry [last: " + lastIndex
          + ", append at: " + e0 + "]");
    }
    for (Entry e : entries) {
      writer.put(Cf.RAFT, Keys.entry(groupId, e.index()), Codec.encodeEntry(e));
    }
    if (lastIndex > last) {
      // The stale tail of a conflicting suffix (Raft §5.3): it must not survive a restart.
      writer.deleteRange(Cf.RAFT, Keys.entry(groupId, last + 1), Keys.entry(groupId, lastIndex + 1));
    }
    if (pending.isEmpty() || e0 < pendingFirst) {
      pending.clear();
      pendingFirst = e0;
    } else {
      pending.subList((int) (e0 - pendingFirst), pending.size()).clear();
    }
    pending.addAll(entries);
    lastIndex = last;
    entriesPut += entries.size();
  }

  void setHardState(HardState hs) {
    checkLive();
    if (hs == null) {
      throw new IllegalArgumentException("hard state is null");
    }
    hardState = hs;
    hardStateDirty = true;
  }

  /** Replaces the whole log with the snapshot's position; see {@link StorageBatch#applySnapshot}. */
  void applySnapshot(SnapshotMetadata snap) {
    checkLive();
    long have = localState.snapshot().index();
    if (have >= snap.index()) {
      throw new IllegalStateException("group " + groupId + ": snapshot at " + snap.index()
          + " is out of date (have " + have + ")");
    }
    writer.deleteRange(Cf.RAFT, Keys.logStart(groupId), Keys.logEnd(groupId));
    applyState = applyState.withTruncated(snap.index(), snap.term());
    localState = localState.withSnapshot(snap);
    applyStateDirty = true;
    localStateDirty = true;
    lastIndex = snap.index();
    pending.clear();
    logDropped = true;
  }

  /** Records a snapshot at {@code index}; see {@link StorageBatch#createSnapshot}. */
  SnapshotMetadata createSnapshot(long index, ConfState cs) {
    checkLive();
    long have = localState.snapshot().index();
    if (index <= have) {
      throw new IllegalStateException(
          "group " + groupId + ": snapshot at " + index + " is out of date (have " + have + ")");
    }
    if (index > lastIndex) {
      throw new IllegalStateException(
          "group " + groupId + ": snapshot index " + index + " > last index " + lastIndex);
    }
    SnapshotMetadata snap = new SnapshotMetadata(cs, index, termAt(index));
    localState = localState.withSnapshot(snap);
    localStateDirty = true;
    return snap;
  }

  /** Drops entries {@code <= compactIndex}; see {@link StorageBatch#compact}. */
  void compact(long compactIndex) {
    checkLive();
    long truncated = applyState.truncatedIndex();
    if (compactIndex <= truncated) {
      throw new CompactedException(compactIndex, truncated + 1);
    }
    if (compactIndex > lastIndex) {
      throw new IllegalStateException("group " + groupId + ": compact " + compactIndex
          + " is out of bound lastindex(" + lastIndex + ")");
    }
    long term = termAt(compactIndex);
    writer.deleteRange(
        Cf.RAFT, Keys.entry(groupId, truncated + 1), Keys.entry(groupId, compactIndex + 1));
    applyState = applyState.withTruncated(compactIndex, term);
    applyStateDirty = true;
    if (!pending.isEmpty() && pendingFirst <= compactIndex) {
      int drop = (int) Math.min(compactIndex - pendingFirst + 1, pending.size());
      pending.subList(0, drop).clear();
      pendingFirst += drop;
    }
  }

  void setConfState(ConfState cs, long index) {
    checkLive();
    if (cs == null) {
      throw new IllegalArgumentException("conf state is null");
    }
    if (index < localState.confIndex()) {
      throw new IllegalStateException("group " + groupId + ": conf state at " + index
          + " is older than the one at " + localState.confIndex());
    }
    localState = localState.withConfState(cs, index);
    localStateDirty = true;
  }

  void setApplied(long appliedIndex) {
    checkLive();
    if (appliedIndex < applyState.appliedIndex()) {
      throw new IllegalStateException("group " + groupId + ": applied index goes back from "
          + applyState.appliedIndex() + " to " + appliedIndex);
    }
    applyState = applyState.withApplied(appliedIndex);
    applyStateDirty = true;
  }

  /** Removes every key of the group in {@link Cf#RAFT} and {@link Cf#META}. */
  void destroy() {
    checkLive();
    writer.deleteRange(Cf.RAFT, Keys.groupStart(groupId), Keys.groupEnd(groupId));
    writer.deleteRange(Cf.META, Keys.groupStart(groupId), Keys.groupEnd(groupId));
    destroyed = true;
    pending.clear();
  }

  /** Writes the changed state records; called once, just before the batch is written. */
  void flushState() {
    if (destroyed) {
      return;
    }
    if (hardStateDirty) {
      writer.put(Cf.RAFT, Keys.hardState(groupId), Codec.encodeHardState(hardState));
    }
    if (applyStateDirty) {
      writer.put(Cf.RAFT, Keys.applyState(groupId), Codec.encodeApplyState(applyState));
    }
    if (localStateDirty) {
      writer.put(Cf.META, Keys.localState(groupId), Codec.encodeLocalState(localState));
    }
  }

  /**
   * The term at {@code index} as the log will be once this batch is durable; same contract as
   * {@link RocksRaftStorage#term}.
   */
  long termAt(long index) {
    long truncated = applyState.truncatedIndex();
    if (index < truncated) {
      throw new CompactedException(index, truncated + 1);
    }
    if (index > lastIndex) {
      throw new UnavailableException("term of " + index + " past last index " + lastIndex);
    }
    if (index == truncated) {
      return applyState.truncatedTerm();
    }
    if (!pending.isEmpty() && index >= pendingFirst) {
      return pending.get((int) (index - pendingFirst)).term();
    }
    if (base == null) {
      throw new IllegalStateException(
          "group " + groupId + ": no entry " + index + " in a group created in this batch");
    }
    return base.term(index); // NB: below pendingFirst the durable log is unchanged
  }

  long groupId() {
    return groupId;
  }

  RocksRaftStorage base() {
    return base;
  }

  boolean created() {
    return created;
  }

  boolean destroyed() {
    return destroyed;
  }

  boolean logDropped() {
    return logDropped;
  }

  HardState hardState() {
    return hardState;
  }

  ApplyState applyState() {
    return applyState;
  }

  LocalState localState() {
    return localState;
  }

  long lastIndex() {
    return lastIndex;
  }

  List<Entry> pending() {
    return pending;
  }

  long entriesPut() {
    return entriesPut;
  }

  private void checkLive() {
    if (destroyed) {
      throw new IllegalStateException("group " + groupId + " was destroyed in this batch");
    }
  }

  private void checkContiguous(List<Entry> entries) {
    long expected = entries.get(0).index();
    for (Entry e : entries) {
      if (e.index() != expected) {
        throw new IllegalArgumentException("group " + groupId + ": entries not contiguous, expected "
            + expected + " got " + e.index());
      }
      expected++;
    }
  }
}
