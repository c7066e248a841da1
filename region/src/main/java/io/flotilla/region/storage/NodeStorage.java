package io.flotilla.region.storage;

import io.flotilla.engine.raft.ConfState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.LogFile;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one RocksDB of a node, holding every Raft group's log and state ({@link Cf#RAFT}), the
 * regions' data ({@link Cf#DATA}) and local state ({@link Cf#META}); key layout in {@link Keys}.
 * Each group is read through its {@link RocksRaftStorage}; all changes go through
 * {@link StorageBatch}es, one per driver round, each made durable by one {@link #write} (group
 * commit: one RocksDB write and, with {@link StorageConfig#fsync()}, one fsync for every group in
 * it).
 *
 * <p>Opening a directory restores every group that exists in it (hard state, membership, truncated
 * state, last index); a crash loses nothing that {@link #write} had returned for.
 *
 * <p>Threads: {@link #open}, {@link #newBatch}, {@link #write}, {@link #group}, {@link #groupIds} and
 * the convenience writers may be called from any thread; several threads may write their own
 * batches concurrently (RocksDB then folds them into shared WAL writes). A group's changes must be
 * written by the thread that owns the group (see {@link RocksRaftStorage}). {@link #close()} once,
 * after every user stopped.
 */
public final class NodeStorage implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeStorage.class);

  private final StorageConfig config;
  private final RocksDatabase rdb;
  private final GroupContext ctx;
  private final RocksKvReader reader;
  private final Map<Long, RocksRaftStorage> groups;
  private final Set<Long> groupsBeingCreated = ConcurrentHashMap.newKeySet();

  private NodeStorage(StorageConfig config, RocksDatabase rdb, GroupContext ctx,
      Map<Long, RocksRaftStorage> groups) {
    this.config = config;
    this.rdb = rdb;
    this.ctx = ctx;
    this.reader = new RocksKvReader(ctx);
    this.groups = new ConcurrentHashMap<>(groups);
  }

  /** Opens (or creates) the node's storage; snapshots carry empty data. */
  public static NodeStorage open(StorageConfig config) {
    return open(config, SnapshotProvider.EMPTY);
  }

  /** Opens (or creates) the node's storage, with snapshot data from {@code snapshotProvider}. */
  public static NodeStorage open(StorageConfig config, SnapshotProvider snapshotProvider) {
    config.validate();
    long startNanos = System.nanoTime();
    if (!config.fsync()) {
      LOG.warn("storage fsync is off [dir={}]: for experiments only, acknowledged writes can be lost"
          + " on power failure; set fsync=true for real use", config.dataDir());
    }
    RocksDatabase rdb = RocksDatabase.open(config);
    try {
      GroupContext ctx = new GroupContext(rdb, new StorageCounters(), snapshotProvider,
          new CacheBudget(config.entryCacheBytesTotal()), config.entryCacheBytesPerGroup(),
          new AtomicBoolean());
      Recovery recovery = new Recovery(rdb, ctx);
      recovery.checkFormat();
      NodeStorage storage = new NodeStorage(config, rdb, ctx, recovery.groups());
      LOG.info("storage opened [dir={} groups={} fsync={}] in {} ms", config.dataDir(),
          storage.groups.size(), config.fsync(), (System.nanoTime() - startNanos) / 1_000_000);
      return storage;
    } catch (RocksDBException | RuntimeException e) {
      rdb.close();
      if (e instanceof RocksDBException rocks) {
        throw new StorageException("recovering " + config.dataDir() + " failed: "
            + rocks.getMessage(), rocks);
      }
      throw (RuntimeException) e;
    }
  }

  /** A new, empty batch for one round of writes. */
  public StorageBatch newBatch() {
    ctx.checkOpen();
    return new StorageBatch(this, new RocksBatchWriter(rdb));
  }

  /**
   * Makes the batch durable with one RocksDB write (synced if {@link StorageConfig#fsync()}), then
   * advances the views of the groups it changed. A batch with nothing in it is not written.
   *
   * @throws StorageException if RocksDB failed; no view changed, the batch is spent, and the node
   *     should stop (whether the write reached the disk is unknown)
   */
  public void write(StorageBatch batch) {
    ctx.checkOpen();
    WriteBatch wb = batch.prepare(this);
    int count = wb.count();
    if (count > 0) {
      try {
        rdb.db().write(rdb.writeOptions(), wb);
      } catch (RocksDBException e) {
        throw new StorageException("writing a batch of " + batch.groupCount() + " groups ("
            + count + " operations) failed: " + e.getMessage(), e);
      }
      ctx.counters().recordBatch(batch.entryCount(), wb.getDataSize(), rdb.syncWrites());
    }
    for (GroupDraft d : batch.drafts()) {
      publish(d);
    }
    batch.markWritten();
  }

  /** Creates a group with an empty log and {@code initial} membership, in its own write. */
  public RocksRaftStorage createGroup(long groupId, ConfState initial) {
    try (StorageBatch batch = newBatch()) {
      batch.createGroup(groupId, initial);
      write(batch);
    }
    return group(groupId);
  }

  /** Compacts a group's log up to {@code compactIndex}, in its own write; see {@link StorageBatch#compact}. */
  public void compact(long groupId, long compactIndex) {
    try (StorageBatch batch = newBatch()) {
      batch.compact(groupId, compactIndex);
      write(batch);
    }
  }

  /** Destroys a group, in its own write; see {@link StorageBatch#destroyGroup}. */
  public void destroyGroup(long groupId) {
    try (StorageBatch batch = newBatch()) {
      batch.destroyGroup(groupId);
      write(batch);
    }
  }

  /**
   * The storage of an existing group.
   *
   * @throws IllegalStateException if the group does not exist on this node
   */
  public RocksRaftStorage group(long groupId) {
    RocksRaftStorage s = groups.get(groupId);
    if (s == null) {
      throw new IllegalStateException("group " + groupId + " does not exist on this node");
    }
    return s;
  }

  public boolean hasGroup(long groupId) {
    return groups.containsKey(groupId);
  }

  /** Ids of the groups on this node, ascending. */
  public List<Long> groupIds() {
    List<Long> ids = new ArrayList<>(groups.keySet());
    ids.sort(null);
    return ids;
  }

  public StorageCounters counters() {
    return ctx.counters();
  }

  public StorageConfig config() {
    return config;
  }

  /** Reads of the node's families for the layers above ({@link KvReader}). */
  public KvReader reader() {
    return reader;
  }

  /** The RocksDB instance, for this package (e.g. {@link SstFiles}); above it, use {@link #reader()}. */
  RocksDB db() {
    ctx.checkOpen();
    return rdb.db();
  }

  ColumnFamilyHandle handle(Cf cf) {
    ctx.checkOpen();
    return rdb.handle(cf);
  }

  /**
   * Bytes of SST files and memtables of every family, as RocksDB estimates them; a family whose
   * figures cannot be read counts 0.
   */
  public long usedBytes() {
    ctx.checkOpen();
    long used = 0;
    for (Cf cf : Cf.values()) {
      try {
        used += rdb.db().getLongProperty(rdb.handle(cf), "rocksdb.total-sst-files-size");
        used += rdb.db().getLongProperty(rdb.handle(cf), "rocksdb.cur-size-all-mem-tables");
      } catch (RocksDBException e) {
        LOG.debug("cannot read the size of column family {}: {}", cf.familyName(), e.toString());
      }
    }
    return used;
  }

  /** Bytes of the live WAL files (what a restart would replay, at most). */
  public long walBytes() {
    ctx.checkOpen();
    try {
      long total = 0;
      for (LogFile f : rdb.db().getSortedWalFiles()) {
        total += f.sizeFileBytes();
      }
      return total;
    } catch (RocksDBException e) {
      throw new StorageException("listing WAL files failed: " + e.getMessage(), e);
    }
  }

  /** Bytes held by all groups' entry caches. */
  public long entryCacheBytes() {
    return ctx.cacheBudget().usedBytes();
  }

  @Override
  public void close() {
    if (ctx.closed().compareAndSet(false, true)) {
      rdb.close();
      LOG.info("storage closed [dir={}] {}", config.dataDir(), ctx.counters());
    }
  }

  /** Reserves a new group id for one unwritten batch; false if another batch holds it. */
  boolean claimNewGroup(long groupId) {
    return groupsBeingCreated.add(groupId);
  }

  void releaseNewGroup(long groupId) {
    groupsBeingCreated.remove(groupId);
  }

  private void publish(GroupDraft d) {
    if (d.created()) {
      if (!d.destroyed()) {
        groups.put(d.groupId(), new RocksRaftStorage(d.groupId(), ctx, d.hardState(),
            d.applyState(), d.localState(), d.lastIndex()));
        groups.get(d.groupId()).publish(d);
      }
    } else if (d.destroyed()) {
      groups.remove(d.groupId(), d.base());
      d.base().markDestroyed();
    } else {
      d.base().publish(d);
    }
  }
}
