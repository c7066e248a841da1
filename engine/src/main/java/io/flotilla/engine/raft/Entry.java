package io.flotilla.engine.raft;

import java.util.Arrays;

/**
 * One log entry. {@code data} is not copied: entries are immutable by convention once built, and the
 * core never writes into an entry's array.
 */
public record Entry(long term, long index, EntryType type, byte[] data) {
  private static final byte[] EMPTY = new byte[0];

  public Entry {
    if (type == null) {
      type = EntryType.NORMAL;
    }
    if (data == null) {
      data = EMPTY;
    }
  }

  public static Entry normal(long term, long index, byte[] data) {
    return new Entry(term, index, EntryType.NORMAL, data);
  }

  /** An entry for {@link RaftLog} tests and leaders' empty no-op entries. */
  public static Entry empty(long term, long index) {
    return new Entry(term, index, EntryType.NORMAL, EMPTY);
  }

  /** Bytes this entry counts for against size limits (data plus a fixed header estimate). */
  public long size() {
    return data.length + 24L;
  }

  Entry withTermIndex(long newTerm, long newIndex) {
    return new Entry(newTerm, newIndex, type, data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Entry e
        && e.term == term
        && e.index == index
        && e.type == type
        && Arrays.equals(e.data, data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(term) * 31 + Long.hashCode(index) * 17 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return term + "/" + index + (type == EntryType.CONF_CHANGE ? "cc" : "") + "(" + data.length + "b)";
  }
}
