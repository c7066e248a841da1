package io.flotilla.region.storage;

import io.flotilla.engine.raft.HardState;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds every group's view from a data directory when a node opens it: a group exists where its
 * local state record exists in {@link Cf#META}; its hard state and apply state come from
 * {@link Cf#RAFT}, its last index from its last log key. Checks that the log starts right after the
 * truncated index. Runs once, on the opening thread.
 */
final class Recovery {
  private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

  private final RocksDatabase rdb;
  private final GroupContext ctx;

  Recovery(RocksDatabase rdb, GroupContext ctx) {
    this.rdb = rdb;
    this.ctx = ctx;
  }

  /** Writes the format marker into a new directory, or refuses one written in another format. */
  void checkFormat() throws RocksDBException {
    RocksDB db = rdb.db();
    ColumnFamilyHandle cf = rdb.handle(Cf.DEFAULT);
    byte[] version = db.get(cf, Keys.FORMAT_VERSION);
    if (version == null) {
      db.put(cf, rdb.writeOptions(), Keys.FORMAT_VERSION, new byte[] {Codec.FORMAT_VERSION});
    } else if (version.length != 1 || version[0] != Codec.FORMAT_VERSION) {
      throw new IllegalStateException("data directory has storage format "
          + Arrays.toString(version) + "; this build reads format " + Codec.FORMAT_VERSION);
    }
  }

  Map<Long, RocksRaftStorage> groups() throws RocksDBException {
    Map<Long, RocksRaftStorage> groups = new HashMap<>();
    try (RocksIterator it = rdb.db().newIterator(rdb.handle(Cf.META))) {
      it.seekToFirst();
      while (it.isValid()) {
        byte[] key = it.key();
        long groupId = Keys.groupId(key);
        if (Arrays.equals(key, Keys.localState(groupId))) {
          groups.put(groupId, load(groupId, Codec.decodeLocalState(it.value())));
        } else {
          LOG.warn("meta records of group {} without its local state; ignored. They are left by a"
              + " bug; `flotilla raft-log` can show them", groupId);
        }
        it.seek(Keys.groupEnd(groupId));
      }
      it.status();
    }
    return groups;
  }

  private RocksRaftStorage load(long groupId, LocalState localState) throws RocksDBException {
    RocksDB db = rdb.db();
    ColumnFamilyHandle raft = rdb.handle(Cf.RAFT);
    byte[] hs = db.get(raft, Keys.hardState(groupId));
    byte[] as = db.get(raft, Keys.applyState(groupId));
    HardState hardState = hs == null ? HardState.EMPTY : Codec.decodeHardState(hs);
    ApplyState applyState = as == null ? ApplyState.EMPTY : Codec.decodeApplyState(as);
    long lastIndex = lastIndex(groupId, applyState);
    return new RocksRaftStorage(groupId, ctx, hardState, applyState, localState, lastIndex);
  }

  private long lastIndex(long groupId, ApplyState applyState) throws RocksDBException {
    long truncated = applyState.truncatedIndex();
    try (Slice lower = new Slice(Keys.logStart(groupId));
        Slice upper = new Slice(Keys.logEnd(groupId));
        ReadOptions options =
            new ReadOptions().setIterateLowerBound(lower).setIterateUpperBound(upper);
        RocksIterator it = rdb.db().newIterator(rdb.handle(Cf.RAFT), options)) {
      it.seekToFirst();
      if (!it.isValid()) {
        it.status();
        return truncated;
      }
      long first = Keys.entryIndex(it.key());
      if (first != truncated + 1) {
        throw new IllegalStateException("group " + groupId + ": log starts at " + first
            + " but the truncated index is " + truncated + "; the data directory is corrupt");
      }
      it.seekToLast();
      it.status();
      return Keys.entryIndex(it.key());
    }
  }
}
