package io.flotilla.region.storage;

import java.util.Arrays;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;

/**
 * {@link KvSnapshot} over a RocksDB snapshot: one {@link ReadOptions} for every get, bounded
 * iterators for scans. Releases the snapshot on {@link #close()}.
 */
final class RocksKvSnapshot implements KvSnapshot {
  private final RocksDatabase rdb;
  private final Snapshot snapshot;
  private final ReadOptions readOptions;

  RocksKvSnapshot(RocksDatabase rdb) {
    this.rdb = rdb;
    this.snapshot = rdb.db().getSnapshot();
    this.readOptions = new ReadOptions().setSnapshot(snapshot);
  }

  @Override
  public byte[] get(Cf cf, byte[] key) {
    try {
      return rdb.db().get(rdb.handle(cf), readOptions, key);
    } catch (RocksDBException e) {
      throw new StorageException("snapshot get in " + cf.familyName() + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void scan(Cf cf, byte[] lower, byte[] upper, boolean reverse, Visitor visitor) {
    try (Slice lowerSlice = lower.length == 0 ? null : new Slice(lower);
        Slice upperSlice = upper.length == 0 ? null : new Slice(upper);
        ReadOptions ro = new ReadOptions().setSnapshot(snapshot)) {
      if (lowerSlice != null) {
        ro.setIterateLowerBound(lowerSlice);
      }
      if (upperSlice != null) {
        ro.setIterateUpperBound(upperSlice);
      }
      try (RocksIterator it = rdb.db().newIterator(rdb.handle(cf), ro)) {
        Cursor at = new Cursor() {
          @Override
          public byte[] key() {
            return it.key();
          }

          @Override
          public byte[] value() {
            return it.value();
          }
        };
        if (reverse) {
          it.seekToLast();
        } else if (lower.length == 0) {
          it.seekToFirst();
        } else {
          it.seek(lower);
        }
        while (it.isValid() && visitor.visit(at)) {
          if (reverse) {
            it.prev();
          } else {
            it.next();
          }
        }
        it.status();
      }
    } catch (RocksDBException e) {
      throw new StorageException("scan of " + cf.familyName() + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public byte[] lastKey(Cf cf, byte[] from) {
    try (RocksIterator it = rdb.db().newIterator(rdb.handle(cf), readOptions)) {
      it.seekToLast();
      if (it.isValid()) {
        byte[] k = it.key();
        return Arrays.compareUnsigned(k, from) >= 0 ? k : null;
      }
      it.status();
      return null;
    } catch (RocksDBException e) {
      throw new StorageException("seek to the last key of " + cf.familyName() + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    readOptions.close();
    rdb.db().releaseSnapshot(snapshot);
  }
}
