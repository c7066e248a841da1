package io.flotilla.engine.raft;

/** A proposal (or transfer request) the core refused; nothing was appended. Retry elsewhere or later. */
public final class ProposalDroppedException extends RaftException {
  /** Why the proposal was refused. */
  public enum Reason {
    /** No leader is known to forward to. */
    NO_LEADER,
    /** The leader is handing leadership to another node. */
    LEADER_TRANSFERRING,
    /** Uncommitted entries already exceed {@link Config#maxUncommittedEntriesSize()}. */
    UNCOMMITTED_LIMIT,
    /** This node is not a member of its group (removed). */
    NOT_MEMBER,
    /** Forwarding proposals to the leader is disabled. */
    FORWARDING_DISABLED,
    /** A conf change is already pending, or the group is in a joint config. */
    CONF_CHANGE_PENDING,
    /** The conf change is invalid for the current configuration. */
    INVALID_CONF_CHANGE
  }

  private final Reason reason;

  public ProposalDroppedException(Reason reason, String detail) {
    super("proposal dropped (" + reason + "): " + detail);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
