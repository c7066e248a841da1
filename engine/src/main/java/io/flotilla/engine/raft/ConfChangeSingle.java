package io.flotilla.engine.raft;

/** One membership change of one node. */
public record ConfChangeSingle(Type type, long nodeId) {
  /** What happens to the node. */
  public enum Type {
    /** Add as a voter, or promote a learner to voter. */
    ADD_NODE,
    /** Add as a learner, or demote a voter to learner. */
    ADD_LEARNER,
    /** Remove from the group. */
    REMOVE_NODE
  }
}
