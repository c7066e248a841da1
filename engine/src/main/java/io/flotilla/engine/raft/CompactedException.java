package io.flotilla.engine.raft;

/** The requested index precedes the first index still in the log: it was compacted away. */
public final class CompactedException extends RaftException {
  public CompactedException(long index, long firstIndex) {
    super("index " + index + " is compacted (first index " + firstIndex + ")", false);
  }
}
