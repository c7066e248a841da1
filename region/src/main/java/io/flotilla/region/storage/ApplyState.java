package io.flotilla.region.storage;

/**
 * How far a group's state machine has applied its log, and where the log now starts. Persisted in
 * {@link Cf#RAFT} under {@link Keys#applyState}; the applied index is written in the same batch as
 * the {@link Cf#DATA} writes it covers, so apply is exactly-once across crashes.
 *
 * @param appliedIndex the last log index whose effects are in the state machine
 * @param truncatedIndex the last index removed from the log (by compaction or a snapshot); the log
 *     is {@code (truncatedIndex, lastIndex]}
 * @param truncatedTerm the term of the entry at {@code truncatedIndex}
 */
public record ApplyState(long appliedIndex, long truncatedIndex, long truncatedTerm) {
  public static final ApplyState EMPTY = new ApplyState(0, 0, 0);

  public ApplyState {
    if (appliedIndex < 0 || truncatedIndex < 0 || truncatedTerm < 0) {
      throw new IllegalArgumentException(
          "apply state must not be negative: applied=" + appliedIndex + " truncated="
              + truncatedIndex + "/" + truncatedTerm);
    }
  }

  ApplyState withApplied(long index) {
    return new ApplyState(index, truncatedIndex, truncatedTerm);
  }

  ApplyState withTruncated(long index, long term) {
    return new ApplyState(appliedIndex, index, term);
  }
}
