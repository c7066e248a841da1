package io.flotilla.region.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * A point-in-time view of a node's column families ({@link KvReader#snapshot()}): batches written
 * after it was taken are not seen. Ranges are {@code [lower, upper)}; an empty {@code upper} means
 * to the end of the family, an empty {@code lower} from its start.
 *
 * <p>Threads: any, one at a time. Always {@link #close()} it: over RocksDB it pins memtables and
 * files.
 */
public interface KvSnapshot extends AutoCloseable {
  /** The value of {@code key} in {@code cf} as of this snapshot, or null. */
  byte[] get(Cf cf, byte[] key);

  /** The values of {@code keys}, in their order; null where a key is absent. */
  default List<byte[]> multiGet(Cf cf, List<byte[]> keys) {
    List<byte[]> values = new ArrayList<>(keys.size());
    for (byte[] k : keys) {
      values.add(get(cf, k));
    }
    return values;
  }

  /**
   * Visits the pairs of {@code [lower, upper)} in {@code cf}, ascending (descending if
   * {@code reverse}), until the visitor returns false: a limit is the visitor counting.
   */
  void scan(Cf cf, byte[] lower, byte[] upper, boolean reverse, Visitor visitor);

  /** {@link #scan} ascending. */
  default void scan(Cf cf, byte[] lower, byte[] upper, Visitor visitor) {
    scan(cf, lower, upper, false, visitor);
  }

  /** The largest key of {@code cf} at or after {@code from}, or null. */
  byte[] lastKey(Cf cf, byte[] from);

  @Override
  void close();

  /** Called once per pair of a scan; false stops it. */
  @FunctionalInterface
  interface Visitor {
    boolean visit(Cursor at);
  }

  /**
   * The pair a scan is at, valid only during {@link Visitor#visit}. Each call copies: a visitor
   * that needs only keys never pays for values.
   */
  interface Cursor {
    byte[] key();

    byte[] value();
  }
}
