package io.flotilla.engine.raft.quorum;

/** The highest log index each voter is known to have durably appended (its match index). */
@FunctionalInterface
public interface AckedIndexer {
  /** The index {@code voterId} has acknowledged, or 0 when nothing is known about it. */
  long ackedIndex(long voterId);
}
