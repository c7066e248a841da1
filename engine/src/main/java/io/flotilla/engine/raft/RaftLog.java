package io.flotilla.engine.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * A group's log as the core sees it: the persisted part in {@link Storage}, the part not yet
 * persisted in {@link Unstable}, and the commit and apply points.
 *
 * <p>Invariant: {@code applied <= committed <= lastIndex()}, and {@code committed} never moves back.
 */
final class RaftLog {
  final Storage storage;
  final Unstable unstable;
  long committed;
  /** Highest index handed to the state machine (in a Ready, acknowledged or not). */
  long applied;
  private final long maxApplyingBytes;

  RaftLog(Storage storage, long maxApplyingBytes) {
    this.storage = storage;
    this.maxApplyingBytes = maxApplyingBytes;
    long first = storage.firstIndex();
    long last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  @Override
  public String toString() {
    return "committed=" + committed + " applied=" + applied + " unstable.offset=" + unstable.offset
        + " len(unstable)=" + unstable.entries.size();
  }

  /**
   * Appends {@code ents} after {@code (index, logTerm)} if that entry matches, committing up to
   * {@code min(committed, last new index)}. Returns the last new index, or -1 if it does not match.
   */
  long maybeAppend(long index, long logTerm, long committed, List<Entry> ents) {
    if (!matchTerm(index, logTerm)) {
      return -1;
    }
    long lastNewIndex = index + ents.size();
    long ci = findConflict(ents);
    if (ci != 0) {
      if (ci <= this.committed) {
        throw new IllegalStateException(
            "entry " + ci + " conflicts with committed entry [committed(" + this.committed + ")]");
      }
      append(ents.subList((int) (ci - (index + 1)), ents.size()));
    }
    commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  long append(List<Entry> ents) {
    if (ents.isEmpty()) {
      return lastIndex();
    }
    long after = ents.get(0).index() - 1;
    if (after < committed) {
      throw new IllegalStateException("after(" + after + ") is out of range [committed(" + committed + ")]");
    }
    unstable.truncateAndAppend(ents);
    return lastIndex();
  }

  /**
   * The index of the first entry in {@code ents} that is not in the log yet or conflicts with it
   * (same index, different term), or 0 if all are already there.
   */
  long findConflict(List<Entry> ents) {
    for (Entry e : ents) {
      if (!matchTerm(e.index(), e.term())) {
        return e.index();
      }
    }
    return 0;
  }

  /**
   * Fast backtracking (etcd): the largest index {@code <= index} whose term is {@code <= term}. A
   * leader that learns the follower's term at its last index skips a whole term per round trip.
   */
  long[] findConflictByTerm(long index, long term) {
    for (; index > 0; index--) {
      long t = termOrMinus(index);
      if (t < 0) {
        return new long[] {index, 0};
      }
      if (t <= term) {
        return new long[] {index, t};
      }
    }
    return new long[] {0, 0};
  }

  List<Entry> nextUnstableEntries() {
    return unstable.nextEntries();
  }

  /** Committed entries not yet handed to the state machine, within the byte budget. */
  List<Entry> nextCommittedEntries() {
    long hi = committed;
    if (applied >= hi) {
      return List.of();
    }
    long lo = applied + 1;
    if (lo < firstIndex()) {
      // A snapshot is pending: it covers these; entries resume after it.
      return List.of();
    }
    return slice(lo, hi + 1, maxApplyingBytes);
  }

  boolean hasNextCommittedEntries() {
    return committed > applied && applied + 1 >= firstIndex();
  }

  Snapshot nextUnstableSnapshot() {
    return unstable.nextSnapshot();
  }

  boolean hasNextUnstableSnapshot() {
    return unstable.nextSnapshot() != null;
  }

  /** The latest snapshot: the unstable one if any, else the storage's. */
  Snapshot snapshot() {
    if (unstable.snapshot != null) {
      return unstable.snapshot;
    }
    return storage.snapshot();
  }

  long firstIndex() {
    long i = unstable.maybeFirstIndex();
    return i != 0 ? i : storage.firstIndex();
  }

  long lastIndex() {
    long i = unstable.maybeLastIndex();
    return i != 0 ? i : storage.lastIndex();
  }

  void commitTo(long toCommit) {
    if (committed < toCommit) {
      if (lastIndex() < toCommit) {
        throw new IllegalStateException(
            "tocommit(" + toCommit + ") is out of range [lastIndex(" + lastIndex() + ")]");
      }
      committed = toCommit;
    }
  }

  void appliedTo(long i) {
    if (i == 0) {
      return;
    }
    if (committed < i || i < applied) {
      throw new IllegalStateException(
          "applied(" + i + ") is out of range [prevApplied(" + applied + "), committed(" + committed + ")]");
    }
    applied = i;
  }

  void stableTo(long i, long t) {
    unstable.stableTo(i, t);
  }

  void stableSnapTo(long i) {
    unstable.stableSnapTo(i);
  }

  long lastTerm() {
    return term(lastIndex());
  }

  /** The term of entry {@code i}; throws {@link CompactedException} / {@link UnavailableException}. */
  long term(long i) {
    long t = unstable.maybeTerm(i);
    if (t >= 0) {
      return t;
    }
    long dummy = firstIndex() - 1;
    if (i < dummy) {
      throw new CompactedException(i, dummy + 1);
    }
    if (i > lastIndex()) {
      throw new UnavailableException("term of " + i + " past last index " + lastIndex());
    }
    return storage.term(i);
  }

  /** The term of entry {@code i}, or -1 if it is compacted or not in the log. */
  long termOrMinus(long i) {
    long t = unstable.maybeTerm(i);
    if (t >= 0) {
      return t;
    }
    // NB: checked here rather than by catching exceptions: this runs for every entry appended.
    if (i < firstIndex() - 1 || i > lastIndex()) {
      return -1;
    }
    try {
      return storage.term(i);
    } catch (CompactedException | UnavailableException e) {
      return -1;
    }
  }

  List<Entry> entries(long i, long maxSize) {
    if (i > lastIndex()) {
      return List.of();
    }
    return slice(i, lastIndex() + 1, maxSize);
  }

  /** Raft §5.4.1: is a log ending at {@code (lasti, term)} at least as up to date as ours? */
  boolean isUpToDate(long lasti, long term) {
    long lastTerm = lastTerm();
    return term > lastTerm || (term == lastTerm && lasti >= lastIndex());
  }

  boolean matchTerm(long i, long term) {
    long t = termOrMinus(i);
    return t >= 0 && t == term;
  }

  /** Raft §5.4.2: commit to {@code maxIndex} only if that entry is of the current term. */
  boolean maybeCommit(long maxIndex, long term) {
    if (maxIndex > committed && termOrMinus(maxIndex) == term) {
      commitTo(maxIndex);
      return true;
    }
    return false;
  }

  void restore(Snapshot s) {
    committed = s.index();
    unstable.restore(s);
  }

  /** Entries {@code [lo, hi)} within {@code maxSize} bytes (at least one). */
  List<Entry> slice(long lo, long hi, long maxSize) {
    checkOutOfBounds(lo, hi);
    if (lo == hi) {
      return List.of();
    }
    if (hi <= unstable.offset) {
      return storage.entries(lo, hi, maxSize); // already size-limited, no need to copy
    }
    List<Entry> ents = new ArrayList<>();
    if (lo < unstable.offset) {
      List<Entry> stored = storage.entries(lo, Math.min(hi, unstable.offset), maxSize);
      ents.addAll(stored);
      long storedHi = lo + stored.size();
      if (storedHi < Math.min(hi, unstable.offset)) {
        return ents; // the size limit cut the stored part short
      }
    }
    if (hi > unstable.offset) {
      ents.addAll(unstable.slice(Math.max(lo, unstable.offset), hi));
    }
    return MemoryStorage.limitSize(ents, maxSize);
  }

  private void checkOutOfBounds(long lo, long hi) {
    if (lo > hi) {
      throw new IllegalStateException("invalid slice " + lo + " > " + hi);
    }
    long fi = firstIndex();
    if (lo < fi) {
      throw new CompactedException(lo, fi);
    }
    long length = lastIndex() + 1 - fi;
    if (hi > fi + length) {
      throw new IllegalStateException(
          "slice[" + lo + "," + hi + ") out of bound [" + fi + "," + lastIndex() + "]");
    }
  }
}
