package io.flotilla.region.storage;

import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;

/**
 * Supplies the data of a group's snapshot when the core asks {@link RocksRaftStorage#snapshot()}.
 * The storage knows only the latest snapshot's position ({@link LocalState#snapshot()}); the region
 * layer knows how to serialize its state machine. Called on the thread driving that group.
 */
@FunctionalInterface
public interface SnapshotProvider {
  /** Empty data with the recorded metadata: what a storage without a state machine can offer. */
  SnapshotProvider EMPTY = (groupId, latest) -> new Snapshot(new byte[0], latest);

  /**
   * The snapshot to send for {@code groupId}.
   *
   * @param latest the metadata of the latest snapshot recorded by the storage
   * @throws io.flotilla.engine.raft.UnavailableException while one is being built; the core
   *     retries later
   */
  Snapshot snapshot(long groupId, SnapshotMetadata latest);
}
