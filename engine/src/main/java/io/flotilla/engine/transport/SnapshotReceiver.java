package io.flotilla.engine.transport;

import io.flotilla.engine.raft.Message;

/**
 * Accepts snapshots other nodes stream to this node. Register with {@link
 * RaftTransport#setSnapshotReceiver}; without one, every incoming transfer is rejected.
 *
 * <p>Threads: called on a transport event loop thread; must not block (open files elsewhere, or
 * return a sink that does its work asynchronously).
 */
@FunctionalInterface
public interface SnapshotReceiver {

  /**
   * A transfer starts.
   *
   * @param fromNodeId the sending node
   * @param groupId the group the snapshot belongs to
   * @param snapshotId the sender's id of this transfer
   * @param message the Raft message the sender attached (typically the MSG_SNAPSHOT), or {@code null}
   * @return the sink that receives the chunks of this transfer
   */
  SnapshotSink begin(long fromNodeId, long groupId, long snapshotId, Message message);
}
