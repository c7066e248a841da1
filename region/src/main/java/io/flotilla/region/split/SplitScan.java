package io.flotilla.region.split;

import io.flotilla.engine.proto.Region;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.NodeStorage;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

/**
 * Measures a region's data by scanning its range: bytes (keys + values), key count and the key at
 * the middle of the bytes, the split key. Used at load or first leadership and after a split, when
 * the running estimate is unknown; writes are added to the estimate as they are applied.
 *
 * <p>Any thread (reads a consistent RocksDB iterator).
 */
public final class SplitScan {
  /** The measurements; {@code middleKey} is null when the region holds fewer than two keys. */
  public record Result(long bytes, long keys, byte[] middleKey) {}

  private SplitScan() {}

  public static Result scan(NodeStorage storage, Region region) {
    byte[] start = region.getStartKey().toByteArray();
    byte[] end = region.getEndKey().toByteArray();
    long bytes = 0;
    long keys = 0;
    try (Slice upper = end.length == 0 ? null : new Slice(end);
        ReadOptions ro = new ReadOptions()) {
      if (upper != null) {
        ro.setIterateUpperBound(upper);
      }
      try (RocksIterator it = storage.db().newIterator(storage.handle(Cf.DATA), ro)) {
        for (it.seek(start); it.isValid(); it.next()) {
          bytes += it.key().length + it.value().length;
          keys++;
        }
      }
      if (keys < 2) {
        return new Result(bytes, keys, null);
      }
      // Second pass: the first key past half of the bytes (never the region's first key).
      long half = bytes / 2;
      long seen = 0;
      byte[] middle = null;
      try (RocksIterator it = storage.db().newIterator(storage.handle(Cf.DATA), ro)) {
        boolean first = true;
        for (it.seek(start); it.isValid(); it.next()) {
          if (!first && seen >= half) {
            middle = it.key();
            break;
          }
          first = false;
          seen += it.key().length + it.value().length;
        }
      }
      return new Result(bytes, keys, middle);
    }
  }
}
