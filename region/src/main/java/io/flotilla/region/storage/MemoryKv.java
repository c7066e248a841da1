package io.flotilla.region.storage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The in-memory twin of a node's RocksDB for tests of the layers above: a sorted map per
 * {@link Cf} (unsigned byte order), written by {@link StorageBatch}es from {@link #newBatch} and
 * read through {@link KvReader}, with the same rules (a batch applies whole and in call order; a
 * read sees only written batches; a snapshot sees none after it). It holds no Raft log: a batch's
 * group operations throw. Correctness over speed: a snapshot copies every family.
 *
 * <p>Threads: any; every operation holds the twin's lock.
 */
public final class MemoryKv implements KvReader {
  private final Map<Cf, TreeMap<byte[], byte[]>> families = new EnumMap<>(Cf.class);

  public MemoryKv() {
    for (Cf cf : Cf.values()) {
      families.put(cf, new TreeMap<>(Arrays::compareUnsigned));
    }
  }

  /** A new, empty batch of raw writes for {@link #write}. */
  public StorageBatch newBatch() {
    return new StorageBatch(null, new Writes(this));
  }

  /** Applies the batch's writes at once and in order, then runs its {@link StorageBatch#onWritten} actions. */
  public void write(StorageBatch batch) {
    if (!(batch.writer() instanceof Writes w) || w.owner != this) {
      throw new IllegalArgumentException("batch belongs to another storage");
    }
    batch.prepareInMemory();
    synchronized (this) {
      for (Runnable op : w.ops) {
        op.run();
      }
    }
    batch.markWritten();
  }

  @Override
  public synchronized byte[] get(Cf cf, byte[] key) {
    return copy(families.get(cf).get(key));
  }

  @Override
  public synchronized KvSnapshot snapshot() {
    Map<Cf, TreeMap<byte[], byte[]>> copy = new EnumMap<>(Cf.class);
    families.forEach((cf, m) -> copy.put(cf, new TreeMap<>(m)));
    return new Snapshot(copy);
  }

  private static byte[] copy(byte[] b) {
    return b == null ? null : b.clone();
  }

  /** The writes of one batch, as operations on the twin's maps run by {@link #write}. */
  private static final class Writes implements BatchWriter {
    private final MemoryKv owner;
    private final List<Runnable> ops = new ArrayList<>();

    Writes(MemoryKv owner) {
      this.owner = owner;
    }

    @Override
    public void put(Cf cf, byte[] key, byte[] value) {
      byte[] k = key.clone();
      byte[] v = value.clone();
      ops.add(() -> owner.families.get(cf).put(k, v));
    }

    @Override
    public void delete(Cf cf, byte[] key) {
      byte[] k = key.clone();
      ops.add(() -> owner.families.get(cf).remove(k));
    }

    @Override
    public void deleteRange(Cf cf, byte[] from, byte[] to) {
      byte[] f = from.clone();
      byte[] t = to.clone();
      ops.add(() -> owner.families.get(cf).subMap(f, t).clear());
    }

    @Override
    public void close() {
      ops.clear();
    }
  }

  /** A copy of every family, taken under the twin's lock. */
  private static final class Snapshot implements KvSnapshot {
    private final Map<Cf, TreeMap<byte[], byte[]>> families;
    private boolean closed;

    Snapshot(Map<Cf, TreeMap<byte[], byte[]>> families) {
      this.families = families;
    }

    @Override
    public byte[] get(Cf cf, byte[] key) {
      return copy(family(cf).get(key));
    }

    @Override
    public void scan(Cf cf, byte[] lower, byte[] upper, boolean reverse, Visitor visitor) {
      TreeMap<byte[], byte[]> m = family(cf);
      if (upper.length > 0 && Arrays.compareUnsigned(lower, upper) >= 0) {
        return;
      }
      NavigableMap<byte[], byte[]> range = upper.length == 0 ? m.tailMap(lower, true) : m.subMap(lower, true, upper, false);
      if (reverse) {
        range = range.descendingMap();
      }
      At at = new At();
      for (Map.Entry<byte[], byte[]> e : range.entrySet()) {
        at.entry = e;
        if (!visitor.visit(at)) {
          return;
        }
      }
    }

    @Override
    public byte[] lastKey(Cf cf, byte[] from) {
      TreeMap<byte[], byte[]> m = family(cf);
      if (m.isEmpty() || Arrays.compareUnsigned(m.lastKey(), from) < 0) {
        return null;
      }
      return m.lastKey().clone();
    }

    @Override
    public void close() {
      closed = true;
    }

    private TreeMap<byte[], byte[]> family(Cf cf) {
      if (closed) {
        throw new IllegalStateException("snapshot is closed");
      }
      return families.get(cf);
    }
  }

  private static final class At implements KvSnapshot.Cursor {
    private Map.Entry<byte[], byte[]> entry;

    @Override
    public byte[] key() {
      return entry.getKey().clone();
    }

    @Override
    public byte[] value() {
      return entry.getValue().clone();
    }
  }
}
