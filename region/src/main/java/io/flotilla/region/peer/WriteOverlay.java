package io.flotilla.region.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The writes of one apply call that are in the round's batch but not yet in RocksDB, so a
 * compare-and-set sees the writes of the entries (and mutations) before it. Point writes and range
 * deletes are stamped with a sequence number; the newest write covering a key decides. A child
 * overlay holds one write request's mutations until they all pass, then {@link #mergeInto} its
 * parent.
 *
 * <p>One thread (the applying one).
 */
final class WriteOverlay {
  /** A key's value as this overlay knows it: {@code value} null means deleted. */
  record Lookup(boolean known, byte[] value) {
    static final Lookup UNKNOWN = new Lookup(false, null);
  }

  private record Point(long seq, byte[] value) {}

  private record Range(long seq, byte[] start, byte[] end) {}

  private final WriteOverlay parent;
  private final TreeMap<byte[], Point> points = new TreeMap<>(KeyRange::compare);
  private final List<Range> ranges = new ArrayList<>();
  private long seq;

  WriteOverlay(WriteOverlay parent) {
    this.parent = parent;
    this.seq = parent == null ? 0 : parent.seq;
  }

  void put(byte[] key, byte[] value) {
    points.put(key, new Point(++seq, value));
  }

  void delete(byte[] key) {
    points.put(key, new Point(++seq, null));
  }

  /** Deletes {@code [start, end)}; end empty = plus infinity. */
  void deleteRange(byte[] start, byte[] end) {
    ranges.add(new Range(++seq, start, end));
  }

  Lookup get(byte[] key) {
    Point p = points.get(key);
    long rangeSeq = -1;
    for (Range r : ranges) {
      if (r.seq > rangeSeq && KeyRange.contains(r.start, r.end, key)) {
        rangeSeq = r.seq;
      }
    }
    if (p != null && p.seq > rangeSeq) {
      return new Lookup(true, p.value);
    }
    if (rangeSeq >= 0) {
      return new Lookup(true, null);
    }
    return parent == null ? Lookup.UNKNOWN : parent.get(key);
  }

  /** The largest key with a pending point write in {@code [start, end)} here or in a parent, or null. */
  byte[] lastPointIn(byte[] start, byte[] end) {
    byte[] best = null;
    Map.Entry<byte[], Point> e = end.length == 0 ? points.lastEntry() : points.lowerEntry(end);
    if (e != null && KeyRange.compare(e.getKey(), start) >= 0) {
      best = e.getKey();
    }
    byte[] fromParent = parent == null ? null : parent.lastPointIn(start, end);
    if (fromParent != null && (best == null || KeyRange.compare(fromParent, best) > 0)) {
      best = fromParent;
    }
    return best;
  }

  /** Replays this overlay's writes, in order, onto its parent. */
  void mergeInto(WriteOverlay target) {
    List<Object[]> all = new ArrayList<>();
    points.forEach((k, p) -> all.add(new Object[] {p.seq, k, p.value, null}));
    for (Range r : ranges) {
      all.add(new Object[] {r.seq, r.start, null, r.end});
    }
    all.sort((a, b) -> Long.compare((long) a[0], (long) b[0]));
    for (Object[] w : all) {
      if (w[3] != null) {
        target.deleteRange((byte[]) w[1], (byte[]) w[3]);
      } else if (w[2] == null) {
        target.delete((byte[]) w[1]);
      } else {
        target.put((byte[]) w[1], (byte[]) w[2]);
      }
    }
  }
}
