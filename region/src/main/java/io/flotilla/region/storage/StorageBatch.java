package io.flotilla.region.storage;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.rocksdb.WriteBatch;

/**
 * The writes of one driver round, for any number of groups, made durable together by one
 * {@link NodeStorage#write} (one RocksDB write, one fsync): group commit.
 *
 * <p>Operations on one group apply in call order, each checked against the group as the earlier
 * operations of this batch left it (e.g. append after {@link #applySnapshot}). An operation whose
 * precondition fails throws and changes nothing; the batch stays usable. The groups' views
 * ({@link RocksRaftStorage}) do not change until {@link NodeStorage#write} returns.
 *
 * <p>Typical round: for each group's {@code Ready}, {@link #applySnapshot} (if any),
 * {@link #append} the entries, {@link #setHardState}; for each applied command, the state machine's
 * {@link #put}/{@link #delete} to {@link Cf#DATA} and {@link #setApplied} (same batch, so apply is
 * exactly-once); then {@code write}, then send messages that needed durability and advance.
 *
 * <p>A group is in at most one unwritten batch at a time (a second batch touching it throws until
 * the first is written or closed): each batch builds on the group's durable state.
 *
 * <p>A batch of {@link MemoryKv} (tests) takes the raw writes ({@link #put}, {@link #delete},
 * {@link #deleteRange}) and {@link #onWritten}; its group operations throw, as it has no Raft log.
 *
 * <p>Threads: one thread fills a batch; {@link NodeStorage#write} it from that thread or hand it
 * over through something that orders memory. Not reusable after it was written; always
 * {@link #close()} it (it holds a native RocksDB batch).
 */
public final class StorageBatch implements AutoCloseable {
  private enum State { OPEN, WRITTEN, FAILED, CLOSED }

  /** Null for a batch of {@link MemoryKv}. */
  private final NodeStorage node;
  private final BatchWriter writer;
  private final Map<Long, GroupDraft> drafts = new HashMap<>();
  private State state = State.OPEN;
  private final List<Runnable> onWritten = new ArrayList<>();

  StorageBatch(NodeStorage node, BatchWriter writer) {
    this.node = node;
    this.writer = writer;
  }

  /**
   * Creates a group with an empty log and {@code initial} membership (like
   * {@code MemoryStorage.withVoters}); {@link ConfState#EMPTY} for a peer that will receive a
   * snapshot.
   *
   * @throws IllegalStateException if the group exists, is in this batch, or is being created by
   *     another unwritten batch
   */
  public void createGroup(long groupId, ConfState initial) {
    checkOpen();
    checkGroupId(groupId);
    if (initial == null) {
      throw new IllegalArgumentException("initial conf state is null");
    }
    if (drafts.containsKey(groupId)) {
      throw new IllegalStateException("group " + groupId + " is already in this batch");
    }
    NodeStorage node = node();
    // NB: claim before checking existence; a creating batch publishes before it releases its claim
    if (!node.claimNewGroup(groupId)) {
      throw new IllegalStateException(
          "group " + groupId + " is already being created or destroyed by an unwritten batch");
    }
    if (node.hasGroup(groupId)) {
      node.releaseNewGroup(groupId);
      throw new IllegalStateException("group " + groupId + " already exists");
    }
    drafts.put(groupId, GroupDraft.create(groupId, initial, writer));
  }

  /**
   * Appends entries to the log; entries that conflict with the log's suffix replace it, and
   * existing entries after the new last index are deleted. Entries at or below the truncated index
   * are skipped.
   *
   * @throws IllegalStateException if the first entry would leave a gap after the last index
   * @throws IllegalArgumentException if the entries' indexes are not consecutive
   */
  public void append(long groupId, List<Entry> entries) {
    draft(groupId).append(entries);
  }

  public void setHardState(long groupId, HardState hardState) {
    draft(groupId).setHardState(hardState);
  }

  /**
   * Replaces the whole log with a snapshot's position: deletes every entry, sets the truncated
   * index and term to the snapshot's, and records the snapshot (and its membership). The applied
   * index is left alone: set it with {@link #setApplied} once the snapshot's data is in
   * {@link Cf#DATA}, in this batch if the data is.
   *
   * @throws IllegalStateException if it is not newer than the latest recorded snapshot
   */
  public void applySnapshot(long groupId, SnapshotMetadata snapshot) {
    if (snapshot == null) {
      throw new IllegalArgumentException("snapshot metadata is null");
    }
    draft(groupId).applySnapshot(snapshot);
  }

  /**
   * Records that a snapshot of the state machine at {@code index} (in the log) can be sent, with
   * membership {@code confState}; the {@link SnapshotProvider} supplies its data. Usually followed
   * by {@link #compact}.
   *
   * @throws IllegalStateException if not newer than the latest snapshot or past the last index
   * @throws io.flotilla.engine.raft.CompactedException if {@code index} was compacted
   */
  public SnapshotMetadata createSnapshot(long groupId, long index, ConfState confState) {
    if (confState == null) {
      throw new IllegalArgumentException("conf state is null");
    }
    return draft(groupId).createSnapshot(index, confState);
  }

  /**
   * Removes entries {@code <= compactIndex} (one range delete) and records {@code compactIndex}
   * and its term as the truncated state, so {@code term(compactIndex)} still answers.
   *
   * @throws io.flotilla.engine.raft.CompactedException if already compacted that far
   * @throws IllegalStateException if {@code compactIndex} is past the last index
   */
  public void compact(long groupId, long compactIndex) {
    draft(groupId).compact(compactIndex);
  }

  /**
   * Records the membership in effect from log index {@code index} on (a conf change the state
   * machine applied at that index); the group restarts from it.
   */
  public void setConfState(long groupId, ConfState confState, long index) {
    draft(groupId).setConfState(confState, index);
  }

  /** Records the applied index; put the state machine's writes for it in this same batch. */
  public void setApplied(long groupId, long appliedIndex) {
    draft(groupId).setApplied(appliedIndex);
  }

  /**
   * Deletes every key the group has in {@link Cf#RAFT} and {@link Cf#META} (two range deletes).
   * Its {@link Cf#DATA} keys are the region layer's to delete. After the write the group's
   * {@link RocksRaftStorage} refuses every call and the id may be created again.
   */
  public void destroyGroup(long groupId) {
    draft(groupId).destroy();
  }

  /** A raw write to {@code cf}, e.g. state machine data; never to the storage's own keys. */
  public void put(Cf cf, byte[] key, byte[] value) {
    checkOpen();
    checkCallerKey(cf, key);
    writer.put(cf, key, value);
  }

  public void delete(Cf cf, byte[] key) {
    checkOpen();
    checkCallerKey(cf, key);
    writer.delete(cf, key);
  }

  /**
   * Deletes {@code [from, to)} in {@code cf}, a range that can hold no storage-owned key; nothing if
   * {@code from} equals {@code to}.
   *
   * @throws IllegalArgumentException if {@code from} is after {@code to}
   */
  public void deleteRange(Cf cf, byte[] from, byte[] to) {
    checkOpen();
    if (Arrays.compareUnsigned(from, to) > 0) {
      throw new IllegalArgumentException("range delete in " + cf.familyName() + " starts after it ends: "
          + HexFormat.of().formatHex(from) + " > " + HexFormat.of().formatHex(to) + " (hex)");
    }
    if (Keys.rangeTouchesStorage(cf, from, to)) {
      throw new IllegalArgumentException("range may hold keys of the storage in column family "
          + cf.familyName() + " (in meta a range must stay within one group's region records)");
    }
    writer.deleteRange(cf, from, to);
  }

  /** Groups this batch changes. */
  public int groupCount() {
    return drafts.size();
  }

  /** Log entries put so far. */
  public long entryCount() {
    long n = 0;
    for (GroupDraft d : drafts.values()) {
      n += d.entriesPut();
    }
    return n;
  }

  /** Frees the native batch and the groups it reserved; unwritten changes are dropped. */
  @Override
  public void close() {
    if (state != State.CLOSED) {
      state = State.CLOSED;
      releaseGroups();
      writer.close();
    }
  }

  /** Writes the drafts' state records and hands over the native batch; {@link NodeStorage} only. */
  WriteBatch prepare(NodeStorage owner) {
    if (owner != node) {
      throw new IllegalArgumentException("batch belongs to another NodeStorage");
    }
    checkOpen();
    for (GroupDraft d : drafts.values()) {
      d.flushState();
    }
    state = State.FAILED; // until published
    return ((RocksBatchWriter) writer).writeBatch();
  }

  BatchWriter writer() {
    return writer;
  }

  /** Spends a {@link MemoryKv} batch before its writer's operations are applied; {@link MemoryKv} only. */
  void prepareInMemory() {
    if (node != null) {
      throw new IllegalArgumentException("batch belongs to a NodeStorage");
    }
    checkOpen();
    state = State.FAILED; // until applied
  }

  /** Drafts to publish once the batch is durable. */
  Collection<GroupDraft> drafts() {
    return new ArrayList<>(drafts.values());
  }

  void markWritten() {
    state = State.WRITTEN;
    releaseGroups();
    for (Runnable r : onWritten) {
      r.run();
    }
    onWritten.clear();
  }

  /**
   * Runs {@code action} on the writing thread once this batch is durable (after the groups' views
   * advanced and their claims were released), e.g. to start a group the batch created. Not run if
   * the batch is closed unwritten or the write fails.
   */
  public void onWritten(Runnable action) {
    checkOpen();
    onWritten.add(action);
  }

  private void releaseGroups() {
    for (GroupDraft d : drafts.values()) {
      if (d.created()) {
        node.releaseNewGroup(d.groupId());
      } else {
        d.base().release(this);
      }
    }
  }

  private GroupDraft draft(long groupId) {
    checkOpen();
    GroupDraft d = drafts.get(groupId);
    if (d == null) {
      RocksRaftStorage base = node().group(groupId);
      base.claim(this);
      d = GroupDraft.of(base, writer);
      drafts.put(groupId, d);
    }
    return d;
  }

  private NodeStorage node() {
    if (node == null) {
      throw new IllegalStateException("a MemoryKv batch takes raw writes only (data, region records);"
          + " group operations need a NodeStorage");
    }
    return node;
  }

  private void checkOpen() {
    if (state != State.OPEN) {
      throw new IllegalStateException("batch is " + state.name().toLowerCase()
          + "; use a new batch for each write");
    }
  }

  private static void checkCallerKey(Cf cf, byte[] key) {
    if (Keys.isStorageOwned(cf, key)) {
      throw new IllegalArgumentException("key belongs to the storage in column family "
          + cf.familyName() + "; use the typed operations");
    }
  }

  static void checkGroupId(long groupId) {
    if (groupId <= 0) {
      throw new IllegalArgumentException("groupId: must be > 0, got " + groupId);
    }
  }
}
