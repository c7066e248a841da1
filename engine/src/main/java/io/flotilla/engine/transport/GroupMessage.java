package io.flotilla.engine.transport;

import io.flotilla.engine.raft.Message;

/** A Raft message addressed to one group on a node. */
public record GroupMessage(long groupId, Message message) {
  public GroupMessage {
    if (message == null) {
      throw new IllegalArgumentException("message is required [group=" + groupId + "]");
    }
  }
}
