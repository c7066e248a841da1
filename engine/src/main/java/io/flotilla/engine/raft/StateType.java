package io.flotilla.engine.raft;

/** The role a node plays in its group. */
public enum StateType {
  FOLLOWER,
  CANDIDATE,
  LEADER,
  PRE_CANDIDATE
}
