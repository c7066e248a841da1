package io.flotilla.engine.transport;

import java.util.List;

/**
 * Receives the Raft messages other nodes send this node, and hears of peers that cannot be reached.
 *
 * <p>Threads: both methods are called on a transport event loop thread ({@code
 * flotilla-transport-*}). They must not block: hand the messages to group mailboxes and return.
 * Messages from one node arrive in the order they were flushed.
 */
@FunctionalInterface
public interface RaftMessageHandler {

  /**
   * One call per received frame: all messages, of any number of groups, that {@code fromNodeId}
   * flushed to this node at once. The list is not modified by the transport afterwards.
   */
  void onRaftMessages(long fromNodeId, List<GroupMessage> messages);

  /**
   * The connection to {@code nodeId} is down, or messages queued for it were dropped because it is.
   * The driver should call {@code reportUnreachable} on the groups with a peer on that node. Called
   * at most once per failed connection attempt and once per flush that found the peer down.
   */
  default void onPeerUnreachable(long nodeId) {}
}
