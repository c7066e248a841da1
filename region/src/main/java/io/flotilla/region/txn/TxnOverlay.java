package io.flotilla.region.txn;

import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvReader;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.StorageBatch;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The transaction-family writes of one apply call that are in the round's batch but not yet in
 * storage, over a view of storage: so a transaction command sees the commands before it in the same
 * apply call (as {@code WriteOverlay} does for raw writes), and every replica decides the same.
 *
 * <p>A {@link #root} overlay lies over a storage snapshot opened on its first read (an apply call
 * without transaction commands never makes one). A {@link #child} holds one command's writes until
 * the command succeeds, then {@link #commitTo} moves them into its parent and the batch, or is
 * dropped: a command writes all or nothing.
 *
 * <p>As a {@link KvSnapshot}: ascending scans only, no {@code lastKey}. One thread (the applying one).
 */
public final class TxnOverlay implements KvSnapshot {
  /** The value of a pending delete. */
  private static final byte[] DELETED = new byte[0];

  private final KvReader reader;
  private final TxnOverlay parent;
  private KvSnapshot base;
  private final Map<Cf, TreeMap<byte[], byte[]>> pending = new EnumMap<>(Cf.class);

  private TxnOverlay(KvReader reader, TxnOverlay parent) {
    this.reader = reader;
    this.parent = parent;
  }

  /** An overlay over storage as {@code reader} shows it; {@link #close} it after the apply call. */
  public static TxnOverlay root(KvReader reader) {
    return new TxnOverlay(reader, null);
  }

  /** A child whose writes reach this overlay only through {@link #commitTo}. */
  TxnOverlay child() {
    return new TxnOverlay(null, this);
  }

  void put(Cf cf, byte[] key, byte[] value) {
    checkTxn(cf);
    pending.computeIfAbsent(cf, c -> new TreeMap<>(KeyRange::compare)).put(key, value);
  }

  void delete(Cf cf, byte[] key) {
    checkTxn(cf);
    pending.computeIfAbsent(cf, c -> new TreeMap<>(KeyRange::compare)).put(key, DELETED);
  }

  /** Whether this overlay holds no write. */
  boolean isEmpty() {
    return pending.isEmpty();
  }

  /** Moves this child's writes into its parent and {@code batch}. */
  void commitTo(StorageBatch batch) {
    if (parent == null) {
      throw new IllegalStateException("commitTo on a root overlay");
    }
    for (Map.Entry<Cf, TreeMap<byte[], byte[]>> f : pending.entrySet()) {
      Cf cf = f.getKey();
      for (Map.Entry<byte[], byte[]> e : f.getValue().entrySet()) {
        if (e.getValue() == DELETED) {
          batch.delete(cf, e.getKey());
          parent.delete(cf, e.getKey());
        } else {
          batch.put(cf, e.getKey(), e.getValue());
          parent.put(cf, e.getKey(), e.getValue());
        }
      }
    }
    pending.clear();
  }

  private static void checkTxn(Cf cf) {
    if (!cf.isTxn()) {
      throw new IllegalArgumentException("a transaction overlay holds only lock, write and version, not " + cf);
    }
  }

  private KvSnapshot base() {
    if (parent != null) {
      return parent;
    }
    if (base == null) {
      base = reader.snapshot();
    }
    return base;
  }

  @Override
  public byte[] get(Cf cf, byte[] key) {
    TreeMap<byte[], byte[]> m = pending.get(cf);
    if (m != null) {
      byte[] v = m.get(key);
      if (v != null) {
        return v == DELETED ? null : v.clone();
      }
    }
    return base().get(cf, key);
  }

  @Override
  public void scan(Cf cf, byte[] lower, byte[] upper, boolean reverse, Visitor visitor) {
    if (reverse) {
      throw new UnsupportedOperationException("a transaction overlay scans ascending only");
    }
    if (upper.length > 0 && KeyRange.compare(lower, upper) >= 0) {
      return;
    }
    TreeMap<byte[], byte[]> m = pending.get(cf);
    NavigableMap<byte[], byte[]> mine = m == null ? Collections.emptyNavigableMap()
        : upper.length == 0 ? m.tailMap(lower, true) : m.subMap(lower, true, upper, false);
    if (mine.isEmpty()) {
      base().scan(cf, lower, upper, false, visitor);
      return;
    }
    new Merge(mine.entrySet().iterator(), visitor).run(cf, lower, upper);
  }

  /** The base scan with this overlay's pending writes of the range merged in (theirs win). */
  private final class Merge {
    private final Iterator<Map.Entry<byte[], byte[]>> mine;
    private final Visitor visitor;
    private final At at = new At();
    private Map.Entry<byte[], byte[]> next;
    private boolean stopped;

    Merge(Iterator<Map.Entry<byte[], byte[]>> mine, Visitor visitor) {
      this.mine = mine;
      this.visitor = visitor;
      this.next = mine.next();
    }

    void run(Cf cf, byte[] lower, byte[] upper) {
      base().scan(cf, lower, upper, false, cur -> {
        byte[] k = cur.key();
        while (next != null && KeyRange.compare(next.getKey(), k) < 0) {
          if (!emitNext()) {
            return false;
          }
        }
        if (next != null && KeyRange.compare(next.getKey(), k) == 0) {
          return emitNext();
        }
        stopped = !visitor.visit(cur);
        return !stopped;
      });
      while (!stopped && next != null) {
        emitNext();
      }
    }

    /** Visits {@code next} unless it is a delete, and moves on; false once the visitor stopped. */
    private boolean emitNext() {
      Map.Entry<byte[], byte[]> e = next;
      next = mine.hasNext() ? mine.next() : null;
      if (e.getValue() != DELETED) {
        at.key = e.getKey();
        at.value = e.getValue();
        stopped = !visitor.visit(at);
      }
      return !stopped;
    }
  }

  private static final class At implements Cursor {
    private byte[] key;
    private byte[] value;

    @Override
    public byte[] key() {
      return key.clone();
    }

    @Override
    public byte[] value() {
      return value.clone();
    }
  }

  @Override
  public byte[] lastKey(Cf cf, byte[] from) {
    throw new UnsupportedOperationException("a transaction overlay has no lastKey");
  }

  /** Closes the storage snapshot of a root overlay (a child holds none). */
  @Override
  public void close() {
    if (base != null) {
      base.close();
      base = null;
    }
  }
}
