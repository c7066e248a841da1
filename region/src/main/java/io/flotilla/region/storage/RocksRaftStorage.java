package io.flotilla.region.storage;

import io.flotilla.engine.raft.CompactedException;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.Storage;
import io.flotilla.engine.raft.UnavailableException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

/**
 * The durable log and state of one Raft group, read by its core through {@link Storage}. It answers
 * exactly as {@link io.flotilla.engine.raft.MemoryStorage} holding the same log would: the log is
 * {@code (truncatedIndex, lastIndex]}, {@code term(truncatedIndex)} answers from the apply state,
 * and the same {@link CompactedException} and {@link UnavailableException} cases apply.
 *
 * <p>It changes only through {@link StorageBatch}es written by {@link NodeStorage#write}: the view
 * here (last index, states, entry cache) advances after the batch is durable, never before. Recent
 * entries are served from an {@link EntryCache}; older ones from RocksDB.
 *
 * <p>Threads: one owner at a time, the thread driving the group (reads here, and the
 * {@link NodeStorage#write} of a batch holding this group's changes). Ownership may move between
 * threads through anything that orders memory (the driver's mailbox or a queue). Metadata getters
 * ({@link #hardState()}, {@link #applyState()}, ...) follow the same rule.
 */
public final class RocksRaftStorage implements Storage {
  private final long groupId;
  private final GroupContext ctx;
  private final EntryCache cache;
  private HardState hardState;
  private ApplyState applyState;
  private LocalState localState;
  private long lastIndex;
  private boolean destroyed;
  private StorageBatch claimedBy;

  RocksRaftStorage(long groupId, GroupContext ctx, HardState hardState, ApplyState applyState,
      LocalState localState, long lastIndex) {
    this.groupId = groupId;
    this.ctx = ctx;
    this.cache = new EntryCache(ctx.cacheBytesPerGroup(), ctx.cacheBudget());
    this.hardState = hardState;
    this.applyState = applyState;
    this.localState = localState;
    this.lastIndex = lastIndex;
  }

  @Override
  public InitialState initialState() {
    checkLive();
    return new InitialState(hardState, localState.confState());
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxSize) {
    checkLive();
    long truncated = applyState.truncatedIndex();
    if (lo <= truncated) {
      throw new CompactedException(lo, truncated + 1);
    }
    if (hi > lastIndex + 1) {
      throw new UnavailableException("entries up to " + hi + " past last index " + lastIndex);
    }
    if (lastIndex == truncated) {
      throw new UnavailableException("log is empty");
    }
    if (lo > hi) {
      throw new IllegalArgumentException("entries: lo " + lo + " > hi " + hi);
    }
    SizeLimited out = new SizeLimited(maxSize, hi - lo);
    long cacheFirst = cache.isEmpty() ? hi : Math.max(lo, Math.min(hi, cache.firstIndex()));
    if (lo < cacheFirst) {
      readFromDisk(lo, cacheFirst, out);
    }
    long hits = 0;
    for (long i = cacheFirst; i < hi && out.offer(cache.get(i)); i++) {
      hits++;
    }
    ctx.counters().recordHits(hits);
    // NB: the list is fresh and never touched again here: wrap it, do not copy it.
    return Collections.unmodifiableList(out.entries);
  }

  @Override
  public long term(long index) {
    checkLive();
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
    if (cache.contains(index)) {
      // NB: not counted: the core asks for terms several times per message, and a shared counter
      // bumped per lookup was 6% of a poller's time across 64 regions. Hits count entries read.
      return cache.get(index).term();
    }
    ctx.counters().recordMisses(1);
    byte[] value;
    try {
      value = ctx.rdb().db().get(ctx.rdb().handle(Cf.RAFT), Keys.entry(groupId, index));
    } catch (RocksDBException e) {
      throw new StorageException("group " + groupId + ": reading entry " + index + " failed", e);
    }
    if (value == null) {
      throw missing(index);
    }
    return Codec.decodeEntryTerm(index, value);
  }

  @Override
  public long firstIndex() {
    checkLive();
    return applyState.truncatedIndex() + 1;
  }

  @Override
  public long lastIndex() {
    checkLive();
    return lastIndex;
  }

  /** The latest snapshot's metadata with data from the node's {@link SnapshotProvider}. */
  @Override
  public Snapshot snapshot() {
    checkLive();
    return ctx.snapshotProvider().snapshot(groupId, localState.snapshot());
  }

  public long groupId() {
    return groupId;
  }

  public HardState hardState() {
    checkLive();
    return hardState;
  }

  public ApplyState applyState() {
    checkLive();
    return applyState;
  }

  /** The index to hand the core as {@code Config.applied} on restart. */
  public long appliedIndex() {
    return applyState().appliedIndex();
  }

  public LocalState localState() {
    checkLive();
    return localState;
  }

  /** The membership the group starts from (see {@link LocalState}). */
  public ConfState confState() {
    return localState().confState();
  }

  /** Position and membership of the latest snapshot created or applied. */
  public SnapshotMetadata snapshotMetadata() {
    return localState().snapshot();
  }

  /**
   * Drops cached entries up to {@code index}, e.g. once every follower has them and they are
   * applied, or when the group hibernates. Reads of them then go to RocksDB.
   */
  public void evictCache(long index) {
    checkLive();
    cache.dropUpTo(index);
  }

  /** Entries in the cache, for tests and metrics. */
  int cachedEntries() {
    return cache.size();
  }

  long cachedBytes() {
    return cache.bytes();
  }

  /** Takes over the state a written batch made durable. Called by {@link NodeStorage#write}. */
  void publish(GroupDraft d) {
    checkLive();
    hardState = d.hardState();
    applyState = d.applyState();
    localState = d.localState();
    if (d.logDropped()) {
      cache.clear();
    }
    cache.dropUpTo(applyState.truncatedIndex());
    cache.dropAfter(d.lastIndex());
    cache.append(d.pending());
    lastIndex = d.lastIndex();
  }

  /**
   * Reserves the group for {@code batch}: a group is in at most one unwritten batch, since a second
   * one would build on state the first is about to change.
   */
  void claim(StorageBatch batch) {
    checkLive();
    if (claimedBy != null && claimedBy != batch) {
      throw new IllegalStateException("group " + groupId + " is already in another unwritten batch;"
          + " write or close that one first");
    }
    claimedBy = batch;
  }

  void release(StorageBatch batch) {
    if (claimedBy == batch) {
      claimedBy = null;
    }
  }

  /** The group's keys are gone; every later call fails. */
  void markDestroyed() {
    cache.clear();
    destroyed = true;
  }

  private void readFromDisk(long lo, long hi, SizeLimited out) {
    long read = 0;
    try (Slice upper = new Slice(Keys.entry(groupId, hi));
        ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
        RocksIterator it = ctx.rdb().db().newIterator(ctx.rdb().handle(Cf.RAFT), options)) {
      it.seek(Keys.entry(groupId, lo));
      for (long index = lo; index < hi; index++, it.next()) {
        if (!it.isValid() || Keys.entryIndex(it.key()) != index) {
          it.status();
          throw missing(index);
        }
        read++;
        if (!out.offer(Codec.decodeEntry(index, it.value()))) {
          break;
        }
      }
    } catch (RocksDBException e) {
      throw new StorageException("group " + groupId + ": reading entries [" + lo + ", " + hi
          + ") failed", e);
    } finally {
      ctx.counters().recordMisses(read);
    }
  }

  private IllegalStateException missing(long index) {
    return new IllegalStateException("group " + groupId + ": log entry " + index
        + " missing from RocksDB although the log is (" + applyState.truncatedIndex() + ", "
        + lastIndex + "]; the data directory is corrupt");
  }

  private void checkLive() {
    ctx.checkOpen();
    if (destroyed) {
      throw new IllegalStateException("group " + groupId + " was destroyed");
    }
  }

  /** At least one entry, then as many as fit in {@code maxSize} bytes (etcd's limitSize). */
  private static final class SizeLimited {
    final List<Entry> entries;
    final long maxSize;
    long bytes;
    boolean full;

    SizeLimited(long maxSize, long upperBound) {
      this.maxSize = maxSize;
      this.entries = new ArrayList<>((int) Math.min(upperBound, 256));
    }

    boolean offer(Entry e) {
      if (full) {
        return false;
      }
      if (!entries.isEmpty() && bytes + e.size() > maxSize) {
        full = true;
        return false;
      }
      entries.add(e);
      bytes += e.size();
      return true;
    }
  }
}
