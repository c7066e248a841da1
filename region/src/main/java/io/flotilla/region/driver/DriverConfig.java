package io.flotilla.region.driver;

import io.flotilla.engine.raft.ReadOnlyOption;

/**
 * Settings of a node's Raft driver. Immutable; {@link #validate()} names the first bad setting.
 *
 * @param pollerThreads threads that step groups and write their Readies (group commit per round)
 * @param tickIntervalMs real time per Raft tick
 * @param electionTick ticks before a follower without a leader campaigns (randomized up to 2x)
 * @param heartbeatTick ticks between leader heartbeats
 * @param maxGroupsPerRound groups one poller round handles together (one fsync for all)
 * @param maxSizePerMsg max entry bytes per append message
 * @param maxInflightMsgs append messages in flight per follower
 * @param maxUncommittedBytes uncommitted bytes a leader accepts before refusing proposals
 * @param hibernate whether idle groups stop ticking
 * @param hibernateAfterTicks idle ticks before a group hibernates; less than electionTick
 * @param nodeDeadAfterMs silence after which a node is taken for dead (node-level liveness)
 * @param proposalTimeoutMs how long a proposal or read may wait before its outcome is unknown
 * @param compactLogAfterEntries applied entries kept in a group's log before it is compacted
 * @param readOnlyOption how reads confirm leadership: {@code LEASE_BASED} by default (the leader
 *     answers from its lease, check-quorum being on; the clock-drift bound is in docs/driver.md);
 *     {@code SAFE} asks a quorum for every batch of reads (ReadIndex)
 */
public record DriverConfig(
    int pollerThreads,
    long tickIntervalMs,
    int electionTick,
    int heartbeatTick,
    int maxGroupsPerRound,
    long maxSizePerMsg,
    int maxInflightMsgs,
    long maxUncommittedBytes,
    boolean hibernate,
    int hibernateAfterTicks,
    long nodeDeadAfterMs,
    long proposalTimeoutMs,
    long compactLogAfterEntries,
    ReadOnlyOption readOnlyOption) {

  public static DriverConfig defaults() {
    return new DriverConfig(
        Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
        100, 10, 2, 1024, 1 << 20, 256, 64L << 20, true, 6, 2_000, 10_000, 10_000,
        ReadOnlyOption.LEASE_BASED);
  }

  public DriverConfig validate() {
    check(pollerThreads >= 1 && pollerThreads <= 64, "pollerThreads", "[1, 64]", pollerThreads);
    check(tickIntervalMs >= 1, "tickIntervalMs", ">= 1", tickIntervalMs);
    check(heartbeatTick >= 1, "heartbeatTick", ">= 1", heartbeatTick);
    check(electionTick > heartbeatTick, "electionTick", "> heartbeatTick (" + heartbeatTick + ")", electionTick);
    check(maxGroupsPerRound >= 1, "maxGroupsPerRound", ">= 1", maxGroupsPerRound);
    check(maxSizePerMsg >= 1, "maxSizePerMsg", ">= 1", maxSizePerMsg);
    check(maxInflightMsgs >= 1, "maxInflightMsgs", ">= 1", maxInflightMsgs);
    check(maxUncommittedBytes >= 0, "maxUncommittedBytes", ">= 0 (0 = no limit)", maxUncommittedBytes);
    check(hibernateAfterTicks > heartbeatTick && hibernateAfterTicks < electionTick, "hibernateAfterTicks",
        "(heartbeatTick, electionTick) = (" + heartbeatTick + ", " + electionTick + ")", hibernateAfterTicks);
    check(nodeDeadAfterMs >= tickIntervalMs, "nodeDeadAfterMs", ">= tickIntervalMs (" + tickIntervalMs + ")", nodeDeadAfterMs);
    check(proposalTimeoutMs >= 1, "proposalTimeoutMs", ">= 1", proposalTimeoutMs);
    check(compactLogAfterEntries >= 1, "compactLogAfterEntries", ">= 1", compactLogAfterEntries);
    if (readOnlyOption == null) {
      throw new IllegalArgumentException("readOnlyOption: must be SAFE or LEASE_BASED");
    }
    return this;
  }

  private static void check(boolean ok, String name, String allowed, Object value) {
    if (!ok) {
      throw new IllegalArgumentException(name + ": must be " + allowed + ", got " + value);
    }
  }

  public DriverConfig withPollerThreads(int v) {
    return new DriverConfig(v, tickIntervalMs, electionTick, heartbeatTick, maxGroupsPerRound, maxSizePerMsg,
        maxInflightMsgs, maxUncommittedBytes, hibernate, hibernateAfterTicks, nodeDeadAfterMs, proposalTimeoutMs,
        compactLogAfterEntries, readOnlyOption);
  }

  public DriverConfig withTickIntervalMs(long v) {
    return new DriverConfig(pollerThreads, v, electionTick, heartbeatTick, maxGroupsPerRound, maxSizePerMsg,
        maxInflightMsgs, maxUncommittedBytes, hibernate, hibernateAfterTicks, nodeDeadAfterMs, proposalTimeoutMs,
        compactLogAfterEntries, readOnlyOption);
  }

  public DriverConfig withHibernate(boolean v) {
    return new DriverConfig(pollerThreads, tickIntervalMs, electionTick, heartbeatTick, maxGroupsPerRound,
        maxSizePerMsg, maxInflightMsgs, maxUncommittedBytes, v, hibernateAfterTicks, nodeDeadAfterMs,
        proposalTimeoutMs, compactLogAfterEntries, readOnlyOption);
  }

  public DriverConfig withNodeDeadAfterMs(long v) {
    return new DriverConfig(pollerThreads, tickIntervalMs, electionTick, heartbeatTick, maxGroupsPerRound,
        maxSizePerMsg, maxInflightMsgs, maxUncommittedBytes, hibernate, hibernateAfterTicks, v,
        proposalTimeoutMs, compactLogAfterEntries, readOnlyOption);
  }

  public DriverConfig withProposalTimeoutMs(long v) {
    return new DriverConfig(pollerThreads, tickIntervalMs, electionTick, heartbeatTick, maxGroupsPerRound,
        maxSizePerMsg, maxInflightMsgs, maxUncommittedBytes, hibernate, hibernateAfterTicks, nodeDeadAfterMs,
        v, compactLogAfterEntries, readOnlyOption);
  }

  public DriverConfig withCompactLogAfterEntries(long v) {
    return new DriverConfig(pollerThreads, tickIntervalMs, electionTick, heartbeatTick, maxGroupsPerRound,
        maxSizePerMsg, maxInflightMsgs, maxUncommittedBytes, hibernate, hibernateAfterTicks, nodeDeadAfterMs,
        proposalTimeoutMs, v, readOnlyOption);
  }

  public DriverConfig withReadOnlyOption(ReadOnlyOption v) {
    return new DriverConfig(pollerThreads, tickIntervalMs, electionTick, heartbeatTick, maxGroupsPerRound,
        maxSizePerMsg, maxInflightMsgs, maxUncommittedBytes, hibernate, hibernateAfterTicks, nodeDeadAfterMs,
        proposalTimeoutMs, compactLogAfterEntries, v);
  }
}
