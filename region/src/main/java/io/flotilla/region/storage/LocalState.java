package io.flotilla.region.storage;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.SnapshotMetadata;

/**
 * A group's membership and latest snapshot position, persisted in {@link Cf#META} under
 * {@link Keys#localState}. Its presence is what makes a group exist on this node.
 *
 * <p>{@code confState} is the membership as of log index {@code confIndex}: the one the core starts
 * from ({@link io.flotilla.engine.raft.Storage#initialState}). A snapshot at or past
 * {@code confIndex} replaces it with the snapshot's membership; {@link StorageBatch#setConfState}
 * records one applied from the log. Without the latter it always equals the snapshot's membership,
 * as in {@link io.flotilla.engine.raft.MemoryStorage}.
 *
 * @param snapshot index, term and membership of the latest snapshot created or applied
 * @param confState the membership the group starts from
 * @param confIndex the log index at which {@code confState} took effect
 */
public record LocalState(SnapshotMetadata snapshot, ConfState confState, long confIndex) {

  public LocalState {
    if (snapshot == null || confState == null) {
      throw new IllegalArgumentException("snapshot and confState are required");
    }
  }

  /** A new group: no snapshot yet, starting with {@code initial} as its membership. */
  static LocalState initial(ConfState initial) {
    return new LocalState(new SnapshotMetadata(initial, 0, 0), initial, 0);
  }

  /** Records {@code snap} as the latest snapshot; its membership wins unless a newer one is known. */
  LocalState withSnapshot(SnapshotMetadata snap) {
    if (snap.index() >= confIndex) {
      return new LocalState(snap, snap.confState(), snap.index());
    }
    return new LocalState(snap, confState, confIndex);
  }

  LocalState withConfState(ConfState cs, long index) {
    return new LocalState(snapshot, cs, index);
  }
}
