package io.flotilla.engine.raft;

/** Base of the typed conditions the core reports to its driver. */
public class RaftException extends RuntimeException {
  public RaftException(String message) {
    super(message);
  }
}
