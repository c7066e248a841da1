package io.flotilla.region.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The writes of one apply call that are in the round's batch but not yet in RocksDB, so a
 * compare-and-set sees the writes of the entries (and mutations) before it. Writes are kept in
 * order; the newest write covering a key decides. A child overlay holds one write request's
 * mutations until they all pass, then {@link #mergeInto} its parent.
 *
 * <p>NB: lazy. Most apply calls never read (no compare-and-set, no range delete to the end of the
 * key space), so writes are only logged; the sorted index is built on the first read and kept up
 * to date after it.
 *
 * <p>One thread (the applying one).
 */
final class WriteOverlay {
  /** A key's value as this overlay knows it: {@code value} null means deleted. */
  record Lookup(boolean known, byte[] value) {
    static final Lookup UNKNOWN = new Lookup(false, null);
  }

  /** A put (value set), a delete (value and end null) or a range delete of [key, end) (end set; empty = +inf). */
  private record Write(long seq, byte[] key, byte[] value, byte[] end) {}

  private final WriteOverlay parent;
  private final List<Write> log = new ArrayList<>();
  /** Built on the first read: the newest point write per key, and the range deletes. */
  private TreeMap<byte[], Write> points;
  private List<Write> ranges;
  private long seq;

  WriteOverlay(WriteOverlay parent) {
    this.parent = parent;
    this.seq = parent == null ? 0 : parent.seq;
  }

  void put(byte[] key, byte[] value) {
    add(key, value, null);
  }

  void delete(byte[] key) {
    add(key, null, null);
  }

  /** Deletes {@code [start, end)}; end empty = plus infinity. */
  void deleteRange(byte[] start, byte[] end) {
    add(start, null, end);
  }

  private void add(byte[] key, byte[] value, byte[] end) {
    Write w = new Write(++seq, key, value, end);
    log.add(w);
    if (points != null) {
      index(w);
    }
  }

  private void index(Write w) {
    if (w.end != null) {
      ranges.add(w);
    } else {
      points.put(w.key, w);
    }
  }

  private void buildIndex() {
    if (points == null) {
      points = new TreeMap<>(KeyRange::compare);
      ranges = new ArrayList<>();
      log.forEach(this::index);
    }
  }

  Lookup get(byte[] key) {
    if (!log.isEmpty()) {
      buildIndex();
      Write p = points.get(key);
      long rangeSeq = -1;
      for (Write r : ranges) {
        if (r.seq > rangeSeq && KeyRange.contains(r.key, r.end, key)) {
          rangeSeq = r.seq;
        }
      }
      if (p != null && p.seq > rangeSeq) {
        return new Lookup(true, p.value);
      }
      if (rangeSeq >= 0) {
        return new Lookup(true, null);
      }
    }
    return parent == null ? Lookup.UNKNOWN : parent.get(key);
  }

  /** The largest key with a pending point write in {@code [start, end)} here or in a parent, or null. */
  byte[] lastPointIn(byte[] start, byte[] end) {
    byte[] best = null;
    if (!log.isEmpty()) {
      buildIndex();
      Map.Entry<byte[], Write> e = end.length == 0 ? points.lastEntry() : points.lowerEntry(end);
      if (e != null && KeyRange.compare(e.getKey(), start) >= 0) {
        best = e.getKey();
      }
    }
    byte[] fromParent = parent == null ? null : parent.lastPointIn(start, end);
    if (fromParent != null && (best == null || KeyRange.compare(fromParent, best) > 0)) {
      best = fromParent;
    }
    return best;
  }

  /** Replays this overlay's writes, in order, onto its parent. */
  void mergeInto(WriteOverlay target) {
    for (Write w : log) {
      target.add(w.key, w.value, w.end);
    }
  }
}
