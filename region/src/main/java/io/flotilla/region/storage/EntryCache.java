package io.flotilla.region.storage;

import io.flotilla.engine.raft.Entry;
import java.util.List;

/**
 * The most recent entries of one group's log, in memory: a contiguous run {@code [firstIndex,
 * lastIndex]} that always ends at the group's durable last index (or is empty). New entries enter
 * at the tail after they are durable; the oldest leave when the group's or the node's byte budget is
 * exceeded, on compaction, or when the driver evicts them. Reads below {@link #firstIndex()} go to
 * RocksDB.
 *
 * <p>Only the thread driving the group touches it (the byte budget it charges is shared).
 */
final class EntryCache {
  private final long maxBytes;
  private final CacheBudget budget;
  private static final int INITIAL_CAPACITY = 16;

  private Entry[] ring = new Entry[INITIAL_CAPACITY];
  private int head;
  private int size;
  private long bytes;

  EntryCache(long maxBytes, CacheBudget budget) {
    this.maxBytes = maxBytes;
    this.budget = budget;
  }

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  long bytes() {
    return bytes;
  }

  /** Index of the oldest cached entry; only when not empty. */
  long firstIndex() {
    return at(0).index();
  }

  /** Index of the newest cached entry; only when not empty. */
  long lastIndex() {
    return at(size - 1).index();
  }

  boolean contains(long index) {
    return size > 0 && index >= firstIndex() && index <= lastIndex();
  }

  /** The cached entry at {@code index}; only when {@link #contains} it. */
  Entry get(long index) {
    return at((int) (index - firstIndex()));
  }

  /**
   * Adds durable entries (contiguous, ascending). Cached entries at or after the first new index are
   * replaced; a gap after the cached run restarts the cache at the new entries.
   */
  void append(List<Entry> entries) {
    if (entries.isEmpty() || maxBytes == 0) {
      return;
    }
    long first = entries.get(0).index();
    if (size > 0 && (first <= firstIndex() || first > lastIndex() + 1)) {
      clear();
    } else if (size > 0) {
      dropAfter(first - 1);
    }
    for (Entry e : entries) {
      push(e);
    }
    evictOverBudget();
  }

  /** Drops cached entries with index {@code <= index}. */
  void dropUpTo(long index) {
    while (size > 0 && at(0).index() <= index) {
      popFirst();
    }
  }

  /** Drops cached entries with index {@code > index}. */
  void dropAfter(long index) {
    while (size > 0 && at(size - 1).index() > index) {
      Entry e = at(size - 1);
      ring[(head + size - 1) & (ring.length - 1)] = null;
      size--;
      account(-e.size());
    }
  }

  void clear() {
    dropAfter(Long.MIN_VALUE);
    head = 0;
    if (ring.length > INITIAL_CAPACITY) {
      ring = new Entry[INITIAL_CAPACITY]; // NB: idle groups should not pin a burst's ring
    }
  }

  private void evictOverBudget() {
    while (size > 0 && (bytes > maxBytes || budget.overLimit())) {
      popFirst();
    }
  }

  private void push(Entry e) {
    if (size == ring.length) {
      grow();
    }
    ring[(head + size) & (ring.length - 1)] = e;
    size++;
    account(e.size());
  }

  private void popFirst() {
    Entry e = ring[head];
    ring[head] = null;
    head = (head + 1) & (ring.length - 1);
    size--;
    account(-e.size());
  }

  private Entry at(int i) {
    return ring[(head + i) & (ring.length - 1)];
  }

  private void grow() {
    Entry[] bigger = new Entry[ring.length * 2];
    for (int i = 0; i < size; i++) {
      bigger[i] = at(i);
    }
    ring = bigger;
    head = 0;
  }

  private void account(long delta) {
    bytes += delta;
    if (delta >= 0) {
      budget.charge(delta);
    } else {
      budget.release(-delta);
    }
  }
}
