package io.flotilla.engine.raft.quorum;

/** The outcome of an election (or of any yes/no poll) as far as a quorum can tell so far. */
public enum VoteResult {
  /** Neither a quorum of yes votes nor enough no votes to rule one out; wait for more. */
  PENDING,
  /** Enough voters rejected that a quorum of yes votes is no longer possible. */
  LOST,
  /** A quorum granted. */
  WON
}
