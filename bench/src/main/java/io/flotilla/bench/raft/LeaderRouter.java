package io.flotilla.bench.raft;

import io.flotilla.region.driver.NotLeaderException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Sends each proposal to the current leader of its group among the nodes this JVM hosts, and picks
 * groups round-robin. In one JVM it routes to all groups; in a node process only to the groups that
 * node led when the load started, since proposals are not forwarded between processes.
 *
 * <p>Thread-safe: proposals complete on poller threads, which issue the next one from there.
 */
final class LeaderRouter {
  /** What to do with a proposal its node refused with NotLeader. */
  enum Retry {
    /** The leader is known and hosted here: propose again at once. */
    NOW,
    /** No leader is known: propose again after a pause. */
    LATER,
    /** The group is led by a node of another process: propose to another group. */
    ELSEWHERE
  }

  /** leaders[g - 1]: the hosted node leading group g; 0 if unknown; LOST if led by another process. */
  private static final long LOST = -1;

  private final BenchNodes nodes;
  private final long[] candidates;
  private final AtomicLongArray leaders;
  private final AtomicInteger cursor = new AtomicInteger();

  private LeaderRouter(BenchNodes nodes, long[] candidates, int groups) {
    this.nodes = nodes;
    this.candidates = candidates;
    this.leaders = new AtomicLongArray(groups);
    for (long g : candidates) {
      leaders.set((int) g - 1, nodes.leaderHere(g));
    }
  }

  /** Routes to every group (all nodes are hosted here). */
  static LeaderRouter allGroups(BenchNodes nodes, int groups) {
    long[] all = new long[groups];
    for (int i = 0; i < groups; i++) {
      all[i] = i + 1;
    }
    return new LeaderRouter(nodes, all, groups);
  }

  /** Routes to the groups led by a hosted node now. */
  static LeaderRouter groupsLedHere(BenchNodes nodes, int groups) {
    return new LeaderRouter(nodes, nodes.groupsLedHere(), groups);
  }

  /** Groups this router proposes to. */
  int candidateCount() {
    return candidates.length;
  }

  long[] candidates() {
    return candidates.clone();
  }

  /** The next group round-robin, skipping groups lost to another process; -1 if none is left. */
  long nextGroup() {
    for (int tries = 0; tries < candidates.length; tries++) {
      long g = candidates[Math.floorMod(cursor.getAndIncrement(), candidates.length)];
      if (leaders.get((int) g - 1) != LOST) {
        return g;
      }
    }
    return -1;
  }

  /** Proposes at the group's leader as far as known; fails with NotLeader if none is known. */
  CompletableFuture<Object> propose(long groupId, byte[] command) {
    int i = (int) groupId - 1;
    long leader = leaders.get(i);
    if (leader == 0) {
      leader = nodes.leaderHere(groupId);
      if (leader != 0) {
        leaders.compareAndSet(i, 0, leader);
      }
    }
    if (leader <= 0) {
      return CompletableFuture.failedFuture(new NotLeaderException(groupId, 0));
    }
    return nodes.driver(leader).propose(groupId, command);
  }

  /** Learns from a NotLeader answer where the group is led now. */
  Retry learn(long groupId, long leaderHint) {
    int i = (int) groupId - 1;
    if (leaderHint != 0 && nodes.hosts(leaderHint)) {
      leaders.set(i, leaderHint);
      return Retry.NOW;
    }
    if (leaderHint != 0) {
      leaders.set(i, LOST);
      return Retry.ELSEWHERE;
    }
    leaders.set(i, 0);
    return Retry.LATER;
  }
}
