package io.flotilla.engine.raft;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The invariants a simulation checks after every step (Raft §5.2, §5.3, §5.4, thesis §6.4):
 *
 * <ul>
 *   <li>election safety: at most one leader per term;
 *   <li>log matching: entries with the same index and term hold the same data and follow the same
 *       previous term (so, inductively, the same prefix);
 *   <li>committed entries never change, and leader completeness: a leader of term T holds every
 *       entry committed in a term before T (unless compacted into its snapshot);
 *   <li>state machine safety: every node's state after applying index i is the same;
 *   <li>read safety: a read answered at index i was asked when nothing above i was committed.
 * </ul>
 *
 * Incremental, so it can run after every step: each node's log is checked on its uncommitted tail,
 * and committed entries once, when they become committed.
 */
final class SimChecker {
  private final long seed;
  private final Map<Long, Long> leaderOfTerm = new HashMap<>();
  /** index -> {term, dataHash} of committed entries. */
  private final Map<Long, long[]> committed = new HashMap<>();
  /** commitTerm -> highest index first seen committed in that term. */
  private final TreeMap<Long, Long> maxIndexByCommitTerm = new TreeMap<>();
  /** (index, term) -> {dataHash, prevTerm}. */
  private final Map<Long, Map<Long, long[]>> entries = new HashMap<>();
  /** index -> state machine hash after applying it. */
  private final Map<Long, Long> smHashAt = new HashMap<>();
  long maxCommitted;
  int leadersElected;

  SimChecker(long seed) {
    this.seed = seed;
  }

  SimViolation violation(String what) {
    return new SimViolation(seed, what);
  }

  static long hash(byte[] data) {
    return ((long) Arrays.hashCode(data) << 20) ^ data.length;
  }

  /** Checks one live node's Raft state; {@code node.checkedCommit} tracks what was checked. */
  void checkNode(Sim.Node node) {
    Raft r = node.raw.raft();
    RaftLog log = r.raftLog;
    if (r.state == StateType.LEADER) {
      Long prev = leaderOfTerm.putIfAbsent(r.term, r.id);
      if (prev == null) {
        leadersElected++;
      }
      if (prev != null && prev != r.id) {
        throw violation("two leaders in term " + r.term + ": " + prev + " and " + r.id);
      }
    }
    long first = log.firstIndex();
    long last = log.lastIndex();
    // Newly committed entries: record them, or compare with what was recorded.
    long from = Math.max(node.checkedCommit + 1, first);
    for (long i = from; i <= log.committed; i++) {
      Entry e = entryAt(log, i);
      long[] seen = committed.get(i);
      long h = hash(e.data());
      if (seen == null) {
        committed.put(i, new long[] {e.term(), h});
        maxIndexByCommitTerm.merge(r.term, i, Math::max);
      } else if (seen[0] != e.term() || seen[1] != h) {
        throw violation("node " + r.id + " committed " + e + " at " + i + " but term " + seen[0]
            + " was committed there before");
      }
    }
    node.checkedCommit = Math.max(node.checkedCommit, log.committed);
    maxCommitted = Math.max(maxCommitted, log.committed);
    // Log matching on the tail (committed entries were checked above).
    for (long i = Math.max(first, log.committed - 1); i <= last; i++) {
      Entry e = entryAt(log, i);
      long prevTerm = log.term(i - 1);
      long[] want = new long[] {hash(e.data()), prevTerm};
      long[] seen = entries.computeIfAbsent(i, k -> new HashMap<>()).putIfAbsent(e.term(), want);
      if (seen != null && (seen[0] != want[0] || seen[1] != want[1])) {
        throw violation("log matching: node " + r.id + " has " + e + " after term " + prevTerm
            + " but another log has index " + i + " term " + e.term() + " with different content/prefix");
      }
    }
    if (r.state == StateType.LEADER) {
      checkLeaderCompleteness(r);
    }
  }

  private void checkLeaderCompleteness(Raft r) {
    var older = maxIndexByCommitTerm.headMap(r.term, false);
    if (older.isEmpty()) {
      return;
    }
    long index = older.values().stream().mapToLong(Long::longValue).max().getAsLong();
    RaftLog log = r.raftLog;
    if (index < log.firstIndex() - 1) {
      return; // compacted into the leader's snapshot
    }
    long[] c = committed.get(index);
    long t = log.termOrMinus(index);
    if (t != c[0]) {
      throw violation("leader completeness: leader " + r.id + " of term " + r.term
          + " lacks committed entry " + index + " (term " + c[0] + "), has term " + t);
    }
  }

  private static Entry entryAt(RaftLog log, long i) {
    return log.slice(i, i + 1, Long.MAX_VALUE).get(0);
  }

  /** A node applied index {@code index}, reaching state {@code smHash}. */
  void onApplied(long node, long index, long smHash) {
    Long seen = smHashAt.putIfAbsent(index, smHash);
    if (seen != null && seen != smHash) {
      throw violation("state machine safety: node " + node + " state after index " + index
          + " differs from another node's");
    }
  }

  /** A read answered at {@code index} that was asked when {@code askBound} was committed. */
  void onReadState(long node, ReadState rs, long askBound) {
    if (rs.index() < askBound) {
      throw violation("read safety: node " + node + " answered read " + new String(rs.requestCtx())
          + " at index " + rs.index() + " but " + askBound + " was committed when it was asked");
    }
  }
}
