package io.flotilla.region.driver;

/**
 * Maps a group's Raft peer ids to the nodes hosting them. Peer ids are unique per replica (a
 * replica removed and re-added on the same node gets a new id), so stale messages of an old
 * incarnation cannot be mistaken for the new one.
 */
@FunctionalInterface
public interface GroupRouting {
  /** Peer id is the node id: enough while every node hosts at most one replica per group. */
  GroupRouting IDENTITY = (groupId, peerId) -> peerId;

  /** The node hosting {@code peerId} of {@code groupId}, or 0 if unknown. */
  long nodeOf(long groupId, long peerId);
}
