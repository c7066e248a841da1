package io.flotilla.engine.raft;

/** Where a snapshot sits in the log, and the membership at that point. */
public record SnapshotMetadata(ConfState confState, long index, long term) {
  public static final SnapshotMetadata EMPTY = new SnapshotMetadata(ConfState.EMPTY, 0, 0);
}
