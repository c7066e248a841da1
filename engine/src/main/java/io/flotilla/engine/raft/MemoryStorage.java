package io.flotilla.engine.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Storage} held in memory, for tests and the simulation. Besides the read interface it
 * offers the writes a driver makes from a {@link Ready}: {@link #append}, {@link #setHardState},
 * {@link #applySnapshot}, {@link #compact}, {@link #createSnapshot}. Not thread-safe: one owner.
 *
 * <p>{@code ents.get(0)} is a dummy entry holding the snapshot's index and term, so
 * {@code term(firstIndex() - 1)} always answers.
 */
public final class MemoryStorage implements Storage {
  private HardState hardState = HardState.EMPTY;
  private Snapshot snapshot = Snapshot.EMPTY;
  /** Membership as of the last applied conf change; null means the snapshot's. */
  private ConfState confState;
  private final ArrayList<Entry> ents = new ArrayList<>();

  public MemoryStorage() {
    ents.add(Entry.empty(0, 0));
  }

  /** A storage that starts with the given voters, as a freshly bootstrapped group does. */
  public static MemoryStorage withVoters(Long... voters) {
    MemoryStorage s = new MemoryStorage();
    s.snapshot = new Snapshot(null, new SnapshotMetadata(ConfState.ofVoters(voters), 0, 0));
    return s;
  }

  @Override
  public InitialState initialState() {
    return new InitialState(hardState, confState != null ? confState : snapshot.metadata().confState());
  }

  /**
   * Records the membership after the driver applied a conf change, so a restart starts from it
   * (a real store persists it with the apply state).
   */
  public void setConfState(ConfState cs) {
    confState = cs;
  }

  /**
   * Bootstraps a new group the etcd way: entries 1..n add the voters, term 1, all committed. A
   * node started on this storage learns its configuration by applying them, as will any node
   * that later joins with an empty log.
   */
  public static MemoryStorage bootstrap(List<Long> voters) {
    MemoryStorage s = new MemoryStorage();
    List<Entry> ents = new ArrayList<>();
    for (int i = 0; i < voters.size(); i++) {
      ents.add(new Entry(1, i + 1, EntryType.CONF_CHANGE, ConfChange.addNode(voters.get(i)).encode()));
    }
    s.append(ents);
    s.hardState = new HardState(1, 0, voters.size());
    return s;
  }

  public HardState hardState() {
    return hardState;
  }

  public void setHardState(HardState hs) {
    hardState = hs;
  }

  private long offset() {
    return ents.get(0).index();
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxSize) {
    long offset = offset();
    if (lo <= offset) {
      throw new CompactedException(lo, offset + 1);
    }
    if (hi > lastIndex() + 1) {
      throw new UnavailableException("entries up to " + hi + " past last index " + lastIndex());
    }
    if (ents.size() == 1) {
      throw new UnavailableException("log is empty");
    }
    return limitSize(ents.subList((int) (lo - offset), (int) (hi - offset)), maxSize);
  }

  /** The longest prefix of {@code ents} within {@code maxSize} bytes, at least one entry. */
  static List<Entry> limitSize(List<Entry> ents, long maxSize) {
    if (ents.isEmpty()) {
      return List.of();
    }
    long size = ents.get(0).size();
    int limit = 1;
    while (limit < ents.size()) {
      size += ents.get(limit).size();
      if (size > maxSize) {
        break;
      }
      limit++;
    }
    return List.copyOf(ents.subList(0, limit));
  }

  @Override
  public long term(long index) {
    long offset = offset();
    if (index < offset) {
      throw new CompactedException(index, offset + 1);
    }
    if (index - offset >= ents.size()) {
      throw new UnavailableException("term of " + index + " past last index " + lastIndex());
    }
    return ents.get((int) (index - offset)).term();
  }

  @Override
  public long firstIndex() {
    return offset() + 1;
  }

  @Override
  public long lastIndex() {
    return offset() + ents.size() - 1;
  }

  @Override
  public Snapshot snapshot() {
    return snapshot;
  }

  /** Replaces the log with a snapshot. Refuses one older than what the storage holds. */
  public void applySnapshot(Snapshot snap) {
    if (snapshot.index() >= snap.index()) {
      throw new IllegalStateException(
          "snapshot at " + snap.index() + " is out of date (have " + snapshot.index() + ")");
    }
    snapshot = snap;
    confState = null;
    ents.clear();
    ents.add(Entry.empty(snap.term(), snap.index()));
  }

  /**
   * Records a snapshot of the state machine at {@code index} (which must be in the log), for
   * followers that fall behind a later {@link #compact}.
   */
  public Snapshot createSnapshot(long index, ConfState cs, byte[] data) {
    if (index <= snapshot.index()) {
      throw new IllegalStateException(
          "snapshot at " + index + " is out of date (have " + snapshot.index() + ")");
    }
    if (index > lastIndex()) {
      throw new IllegalStateException("snapshot index " + index + " > last index " + lastIndex());
    }
    snapshot = new Snapshot(data, new SnapshotMetadata(cs, index, term(index)));
    return snapshot;
  }

  /** Discards entries before {@code compactIndex}; {@code compactIndex} stays as the dummy. */
  public void compact(long compactIndex) {
    long offset = offset();
    if (compactIndex <= offset) {
      throw new CompactedException(compactIndex, offset + 1);
    }
    if (compactIndex > lastIndex()) {
      throw new IllegalStateException(
          "compact " + compactIndex + " is out of bound lastindex(" + lastIndex() + ")");
    }
    int i = (int) (compactIndex - offset);
    Entry dummy = Entry.empty(ents.get(i).term(), ents.get(i).index());
    List<Entry> rest = new ArrayList<>(ents.subList(i + 1, ents.size()));
    ents.clear();
    ents.add(dummy);
    ents.addAll(rest);
  }

  /**
   * Appends entries, replacing any conflicting suffix. Entries already compacted are skipped. The
   * first entry must not leave a gap after the last index.
   */
  public void append(List<Entry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    long first = firstIndex();
    long last = entries.get(0).index() + entries.size() - 1;
    if (last < first) {
      return;
    }
    if (first > entries.get(0).index()) {
      entries = entries.subList((int) (first - entries.get(0).index()), entries.size());
    }
    long offset = entries.get(0).index() - offset();
    if (offset > ents.size()) {
      throw new IllegalStateException(
          "missing log entry [last: " + lastIndex() + ", append at: " + entries.get(0).index() + "]");
    }
    while (ents.size() > offset) {
      ents.remove(ents.size() - 1);
    }
    ents.addAll(entries);
  }
}
