package io.flotilla.region.storage;

import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.EntryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksIterator;

/** Helpers shared by the storage tests. */
final class Fixtures {
  private Fixtures() {}

  /** fsync on (it costs about half a millisecond here), default caches. */
  static StorageConfig config(Path dir) {
    return StorageConfig.defaults(dir).withBlockCacheBytes(8L << 20).withWriteBuffers(4L << 20, 2);
  }

  /** Entries {@code [from, to]} of {@code term}, each with a small payload naming it. */
  static List<Entry> entries(long from, long to, long term) {
    List<Entry> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(entry(i, term));
    }
    return out;
  }

  static Entry entry(long index, long term) {
    byte[] data = ("e" + index + "t" + term).getBytes(StandardCharsets.UTF_8);
    EntryType type = index % 7 == 0 ? EntryType.CONF_CHANGE : EntryType.NORMAL;
    return new Entry(term, index, type, data);
  }

  /** An entry whose {@link Entry#size()} is exactly {@code size} bytes. */
  static Entry sized(long index, long term, int size) {
    return Entry.normal(term, index, new byte[size - 24]);
  }

  static void append(NodeStorage node, long groupId, List<Entry> entries) {
    try (StorageBatch batch = node.newBatch()) {
      batch.append(groupId, entries);
      node.write(batch);
    }
  }

  /** Every key in {@code cf} whose first 8 bytes are {@code groupId}. */
  static List<byte[]> keysOfGroup(NodeStorage node, Cf cf, long groupId) {
    List<byte[]> keys = new ArrayList<>();
    try (RocksIterator it = node.db().newIterator(node.handle(cf))) {
      for (it.seek(Keys.groupStart(groupId)); it.isValid(); it.next()) {
        if (it.key().length < 8 || Keys.groupId(it.key()) != groupId) {
          break;
        }
        keys.add(it.key());
      }
    }
    return keys;
  }

  /** Indexes of the log entry keys of {@code groupId} present in RocksDB. */
  static List<Long> logIndexesOnDisk(NodeStorage node, long groupId) {
    List<Long> out = new ArrayList<>();
    for (byte[] key : keysOfGroup(node, Cf.RAFT, groupId)) {
      if (Keys.isEntryOf(key, groupId)) {
        out.add(Keys.entryIndex(key));
      }
    }
    return out;
  }
}
