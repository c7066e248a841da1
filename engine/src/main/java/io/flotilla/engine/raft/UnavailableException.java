package io.flotilla.engine.raft;

/**
 * The requested entries (or snapshot) are not available yet: past the last index, or a snapshot
 * being built. The caller retries later.
 */
public final class UnavailableException extends RaftException {
  public UnavailableException(String what) {
    super(what, false);
  }
}
