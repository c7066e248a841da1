package io.flotilla.engine.raft;

/**
 * Raft message types. Those marked local never cross the network: they are how the driver's inputs
 * ({@code tick}, {@code propose}, reports) enter {@link Raft#step}.
 */
public enum MessageType {
  /** Local: start an election (or pre-election). */
  HUP(true),
  /** Local: the leader should send heartbeats. */
  BEAT(true),
  /** A proposal: local on the leader, forwarded by followers. */
  PROPOSE(false),
  APP(false),
  APP_RESP(false),
  VOTE(false),
  VOTE_RESP(false),
  PRE_VOTE(false),
  PRE_VOTE_RESP(false),
  SNAPSHOT(false),
  HEARTBEAT(false),
  HEARTBEAT_RESP(false),
  /** Local: the driver could not reach a peer. */
  UNREACHABLE(true),
  /** Local: the driver reports whether sending a snapshot succeeded ({@code reject} = failed). */
  SNAP_STATUS(true),
  /** Local: the leader checks that a quorum is still active. */
  CHECK_QUORUM(true),
  /** Ask the leader to hand leadership to {@code from}; local or forwarded. */
  TRANSFER_LEADER(false),
  /** Sent by a leader transferring leadership: start an election at once. */
  TIMEOUT_NOW(false),
  READ_INDEX(false),
  READ_INDEX_RESP(false);

  private final boolean local;

  MessageType(boolean local) {
    this.local = local;
  }

  public boolean isLocal() {
    return local;
  }

  public boolean isResponse() {
    return this == APP_RESP
        || this == VOTE_RESP
        || this == PRE_VOTE_RESP
        || this == HEARTBEAT_RESP
        || this == UNREACHABLE
        || this == READ_INDEX_RESP;
  }

  /** The response type that answers a vote request of this type. */
  public MessageType voteResponse() {
    return switch (this) {
      case VOTE -> VOTE_RESP;
      case PRE_VOTE -> PRE_VOTE_RESP;
      default -> throw new IllegalStateException("not a vote message: " + this);
    };
  }
}
