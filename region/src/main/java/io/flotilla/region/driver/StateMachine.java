package io.flotilla.region.driver;

import io.flotilla.engine.raft.ConfChange;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.region.storage.StorageBatch;
import java.util.List;

/**
 * What a Raft group replicates: regions and the placement driver plug their state in here. Called
 * only on the thread currently driving the group, never concurrently for one group.
 *
 * <p>Apply is exactly-once across crashes: the driver writes the state machine's changes, the
 * applied index and the Raft log of the same round in one {@link StorageBatch} (one fsync). A
 * state machine that keeps state in memory must be able to rebuild it from {@link #restore} and the
 * entries replayed after a restart.
 *
 * <p>{@code R} is what applying an entry answers. A state machine whose commands answer different
 * types (a KV write, a split) says which command answers which subtype; its proposers name that
 * subtype to {@link RaftDriver#propose(long, byte[], Class)}, and get it without a cast.
 *
 * @param <R> the result of applying one entry
 */
public interface StateMachine<R> {
  /**
   * Applies committed entries, in index order (normal entries only; membership changes are applied
   * by the driver). Empty entries (a new leader's no-op) are passed too and may be ignored.
   *
   * @param batch where to put durable changes; written before any result is returned to a client
   * @return one result per entry (null allowed), handed to the proposer's future (which fails if
   *     the result is not of the class its proposer named)
   */
  List<R> apply(long groupId, List<Entry> entries, StorageBatch batch);

  /**
   * {@link #apply(long, List, StorageBatch)}, with {@code proposed}: for each entry this replica
   * proposed as leader, what its proposer passed as {@code parsed} to
   * {@link RaftDriver#propose(long, byte[], Object, Class)} (null elsewhere; the list itself is
   * null when there is none). A state machine may use it instead of decoding the entry; by default
   * it is ignored.
   */
  default List<R> apply(long groupId, List<Entry> entries, List<Object> proposed, StorageBatch batch) {
    return apply(groupId, entries, batch);
  }

  /**
   * The state as of the last applied entry, to ship to a follower that needs a snapshot: for state
   * machines small enough to serialize on the group's thread. By default unsupported: a state
   * machine overrides this or {@link #snapshot(long, SnapshotMetadata)}.
   */
  default byte[] snapshot(long groupId) {
    throw new UnsupportedOperationException(getClass().getName() + " does not snapshot group " + groupId);
  }

  /**
   * A snapshot to ship to a follower; {@code appliedNow} is the position and membership of the last
   * applied entry. By default {@link #snapshot(long)} there. A state machine that builds its
   * snapshots off the group's thread returns one it built earlier (with that one's metadata), or
   * starts a build and throws {@link io.flotilla.engine.raft.UnavailableException}: the core asks
   * again later.
   */
  default Snapshot snapshot(long groupId, SnapshotMetadata appliedNow) {
    return new Snapshot(snapshot(groupId), appliedNow);
  }

  /**
   * The slow half of restoring a snapshot (e.g. ingesting its files), run on the driver's restore
   * worker, not on the group's thread, before {@link #restore} is called with the same data on the
   * group's thread. The group makes no progress in between (its Ready waits), other groups do. It
   * must leave the state readable by nobody but this group (the replica is not serving) and may
   * be repeated after a crash before {@link #restore}'s batch is durable. By default nothing.
   */
  default void prepareRestore(long groupId, byte[] data) {}

  /**
   * Replaces the state with a snapshot's, after {@link #prepareRestore}; durable changes go into
   * {@code batch}, written with the snapshot's Raft state in one fsync.
   */
  void restore(long groupId, byte[] data, StorageBatch batch);

  /**
   * A committed membership change was just applied to the Raft core (entry {@code index}); its
   * {@link ConfState} {@code after} goes into the same {@code batch}, so whatever the state machine
   * records about membership (e.g. a region's peers and epoch) changes atomically with it. Called
   * in log order between the {@link #apply} calls of the entries around it. An invalid change the
   * core refused arrives too, with {@code after} unchanged.
   *
   * @return the result handed to the proposer's future, as for {@link #apply} (by default null)
   */
  default R applyConfChange(long groupId, ConfChange change, ConfState after, long index, StorageBatch batch) {
    return null;
  }
}
