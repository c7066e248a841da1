package io.flotilla.engine.raft;

import java.util.List;

/**
 * Read access to what has been persisted for one group: the stable log, hard state, membership and
 * the latest snapshot. The core only reads through it; the driver writes to the real storage from
 * {@link Ready} before calling {@link RawNode#advance}. Called only from the thread driving the
 * group.
 *
 * <p>The log is {@code (snapshot.index, lastIndex]}; {@code term(firstIndex() - 1)} must still
 * answer (the snapshot's term).
 */
public interface Storage {
  /** Hard state and membership as persisted; used once, when the core starts. */
  InitialState initialState();

  /**
   * Entries {@code [lo, hi)}, at least one (if any exist) and then as many as fit in {@code maxSize}
   * bytes.
   *
   * @throws CompactedException if {@code lo <= snapshot index}
   * @throws UnavailableException if {@code hi > lastIndex() + 1}
   */
  List<Entry> entries(long lo, long hi, long maxSize);

  /**
   * The term of entry {@code index}, valid for {@code firstIndex() - 1 <= index <= lastIndex()}.
   *
   * @throws CompactedException below that range
   * @throws UnavailableException above it
   */
  long term(long index);

  /** Index of the first entry still in the log (snapshot index + 1). */
  long firstIndex();

  /** Index of the last entry in the log (the snapshot index if the log is empty). */
  long lastIndex();

  /**
   * The most recent snapshot.
   *
   * @throws UnavailableException if one is being built; the core retries later
   */
  Snapshot snapshot();

  /** What a group starts from. */
  record InitialState(HardState hardState, ConfState confState) {}
}
