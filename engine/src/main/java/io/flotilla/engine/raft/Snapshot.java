package io.flotilla.engine.raft;

/**
 * A state machine snapshot. The core treats {@code data} as opaque; a real store may put a
 * descriptor here and stream the files separately.
 */
public record Snapshot(byte[] data, SnapshotMetadata metadata) {
  public static final Snapshot EMPTY = new Snapshot(new byte[0], SnapshotMetadata.EMPTY);

  public Snapshot {
    if (data == null) {
      data = new byte[0];
    }
    if (metadata == null) {
      metadata = SnapshotMetadata.EMPTY;
    }
  }

  public boolean isEmpty() {
    return metadata.index() == 0;
  }

  public long index() {
    return metadata.index();
  }

  public long term() {
    return metadata.term();
  }
}
