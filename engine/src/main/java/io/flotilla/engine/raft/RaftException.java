package io.flotilla.engine.raft;

/** Base of the typed conditions the core reports to its driver. */
public class RaftException extends RuntimeException {
  public RaftException(String message) {
    super(message);
  }

  /**
   * For conditions that are control flow between storage and core (compacted, unavailable):
   * thrown often, caught nearby, so no stack trace is captured.
   */
  protected RaftException(String message, boolean withStackTrace) {
    super(message, null, false, withStackTrace);
  }
}
