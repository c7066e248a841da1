package io.flotilla.engine.raft.confchange;

import io.flotilla.engine.raft.RaftException;

/**
 * A membership change that cannot be applied to the current configuration (for example two voter
 * changes without joint consensus, or one that removes every voter). The configuration is left
 * unchanged; the message names the configuration and the offending change.
 */
public final class InvalidConfChangeException extends RaftException {
  public InvalidConfChangeException(String message) {
    super(message);
  }
}
