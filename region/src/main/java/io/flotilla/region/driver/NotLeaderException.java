package io.flotilla.region.driver;

/** This replica does not lead its group; retry at {@link #leaderNode()} if it is not 0. */
public final class NotLeaderException extends DriverException {
  private final long groupId;
  private final long leaderNode;

  public NotLeaderException(long groupId, long leaderNode) {
    super("group " + groupId + ": not the leader"
        + (leaderNode == 0 ? ", leader unknown" : ", try node " + leaderNode));
    this.groupId = groupId;
    this.leaderNode = leaderNode;
  }

  public long groupId() {
    return groupId;
  }

  /** The node believed to lead, or 0 if unknown. */
  public long leaderNode() {
    return leaderNode;
  }
}
