package io.flotilla.engine.raft.quorum;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * An immutable set of voters whose decisions need a simple majority, {@code n/2 + 1} of {@code n}
 * (Raft §5.2, §5.3).
 *
 * <p>The empty config is a neutral element for joint quorums: it wins every vote and its committed
 * index is {@link Long#MAX_VALUE}, so in a {@link JointConfig} whose outgoing half is empty only
 * the incoming half decides.
 *
 * <p>Immutable, hence safe to share between threads.
 */
public final class MajorityConfig {
  public static final MajorityConfig EMPTY = new MajorityConfig(Set.of());

  /** Sorted ascending; iteration order is deterministic. */
  private final SortedSet<Long> ids;

  public MajorityConfig(Collection<Long> ids) {
    this.ids = Collections.unmodifiableSortedSet(new TreeSet<>(ids));
  }

  public static MajorityConfig of(long... ids) {
    TreeSet<Long> set = new TreeSet<>();
    for (long id : ids) {
      set.add(id);
    }
    return new MajorityConfig(set);
  }

  /** The voter ids, sorted ascending, unmodifiable. */
  public Set<Long> ids() {
    return ids;
  }

  public int size() {
    return ids.size();
  }

  public boolean isEmpty() {
    return ids.isEmpty();
  }

  public boolean contains(long id) {
    return ids.contains(id);
  }

  /**
   * The largest index acknowledged by a majority: with the acked indexes sorted descending, the
   * one at position {@code n/2}. Voters {@code l} knows nothing about count as having acked 0.
   * The empty config returns {@link Long#MAX_VALUE}.
   */
  public long committedIndex(AckedIndexer l) {
    int n = ids.size();
    if (n == 0) {
      return Long.MAX_VALUE;
    }
    long[] acked = new long[n];
    int i = 0;
    for (long id : ids) {
      acked[i++] = l.ackedIndex(id);
    }
    Arrays.sort(acked);
    // Ascending order, so descending position n/2 is ascending position n - 1 - n/2.
    return acked[n - 1 - n / 2];
  }

  /**
   * Tallies {@code votes} (voter id to granted). Voters missing from the map are pending; entries
   * for non-voters are ignored. The empty config wins.
   */
  public VoteResult voteResult(Map<Long, Boolean> votes) {
    int n = ids.size();
    if (n == 0) {
      return VoteResult.WON;
    }
    int granted = 0;
    int pending = 0;
    for (long id : ids) {
      Boolean v = votes.get(id);
      if (v == null) {
        pending++;
      } else if (v) {
        granted++;
      }
    }
    int q = n / 2 + 1;
    if (granted >= q) {
      return VoteResult.WON;
    }
    if (granted + pending >= q) {
      return VoteResult.PENDING;
    }
    return VoteResult.LOST;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MajorityConfig other && ids.equals(other.ids);
  }

  @Override
  public int hashCode() {
    return Objects.hash(ids);
  }

  /** Like {@code (1 2 3)}; the empty config is {@code ()}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("(");
    for (long id : ids) {
      if (sb.length() > 1) {
        sb.append(' ');
      }
      sb.append(id);
    }
    return sb.append(')').toString();
  }
}
