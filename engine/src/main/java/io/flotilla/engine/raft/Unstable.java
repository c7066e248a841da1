package io.flotilla.engine.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * Entries (and possibly a snapshot) not yet persisted. {@code entries.get(i)} has index
 * {@code offset + i}. {@code offsetInProgress} marks the prefix already handed to the driver in a
 * {@link Ready} whose write has not been acknowledged yet: {@code [offset, offsetInProgress)} is
 * being written, {@code [offsetInProgress, ...)} is not handed out yet.
 */
final class Unstable {
  Snapshot snapshot;
  boolean snapshotInProgress;
  List<Entry> entries = new ArrayList<>();
  long offset;
  long offsetInProgress;

  Unstable(long offset) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** Index of the first entry the unstable part may hold, if it holds a snapshot. */
  long maybeFirstIndex() {
    return snapshot != null ? snapshot.index() + 1 : 0;
  }

  /** Last index held here, or 0 if none. */
  long maybeLastIndex() {
    if (!entries.isEmpty()) {
      return offset + entries.size() - 1;
    }
    return snapshot != null ? snapshot.index() : 0;
  }

  /** The term of entry {@code i} if held here, else -1. */
  long maybeTerm(long i) {
    if (i < offset) {
      if (snapshot != null && snapshot.index() == i) {
        return snapshot.term();
      }
      return -1;
    }
    long last = maybeLastIndex();
    if (last == 0 || i > last) {
      return -1;
    }
    return entries.get((int) (i - offset)).term();
  }

  /** Entries not yet handed out for persistence. */
  List<Entry> nextEntries() {
    int inProgress = (int) (offsetInProgress - offset);
    if (entries.size() == inProgress) {
      return List.of();
    }
    return List.copyOf(entries.subList(inProgress, entries.size()));
  }

  boolean hasNextEntries() {
    return entries.size() > offsetInProgress - offset;
  }

  /** The snapshot, if not yet handed out. */
  Snapshot nextSnapshot() {
    return snapshot == null || snapshotInProgress ? null : snapshot;
  }

  /** Marks everything currently held as handed out. */
  void acceptInProgress() {
    if (!entries.isEmpty()) {
      offsetInProgress = entries.get(entries.size() - 1).index() + 1;
    }
    if (snapshot != null) {
      snapshotInProgress = true;
    }
  }

  /**
   * Entries up to {@code (i, t)} are persisted. Ignored if the entry at {@code i} has since been
   * replaced (a different term) or was never here.
   */
  void stableTo(long i, long t) {
    long gt = maybeTerm(i);
    if (gt < 0 || i < offset) {
      return;
    }
    if (gt == t) {
      int num = (int) (i + 1 - offset);
      entries = new ArrayList<>(entries.subList(num, entries.size()));
      offset = i + 1;
      offsetInProgress = Math.max(offsetInProgress, offset);
    }
  }

  void stableSnapTo(long i) {
    if (snapshot != null && snapshot.index() == i) {
      snapshot = null;
      snapshotInProgress = false;
    }
  }

  void restore(Snapshot s) {
    offset = s.index() + 1;
    offsetInProgress = offset;
    entries = new ArrayList<>();
    snapshot = s;
    snapshotInProgress = false;
  }

  /** Appends, replacing any conflicting suffix (the caller checked the entries connect). */
  void truncateAndAppend(List<Entry> ents) {
    long fromIndex = ents.get(0).index();
    if (fromIndex == offset + entries.size()) {
      entries.addAll(ents);
    } else if (fromIndex <= offset) {
      // The log is being replaced from before the unstable part: the whole unstable part goes.
      entries = new ArrayList<>(ents);
      offset = fromIndex;
      offsetInProgress = offset;
    } else {
      List<Entry> kept = new ArrayList<>(entries.subList(0, (int) (fromIndex - offset)));
      kept.addAll(ents);
      entries = kept;
      offsetInProgress = Math.min(offsetInProgress, fromIndex);
    }
  }

  List<Entry> slice(long lo, long hi) {
    if (lo > hi || lo < offset || hi > offset + entries.size()) {
      throw new IllegalStateException(
          "unstable.slice[" + lo + "," + hi + ") out of bound [" + offset + "," + (offset + entries.size()) + "]");
    }
    return entries.subList((int) (lo - offset), (int) (hi - offset));
  }
}
