package io.flotilla.engine.raft.quorum;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Two majority configs that must both agree (joint consensus, Raft thesis §4.3). The
 * {@code incoming} config is the one being moved to; the {@code outgoing} config is the one being
 * left and is {@link MajorityConfig#EMPTY} outside a joint configuration, in which case only the
 * incoming config decides (the empty half wins every vote and commits everything).
 *
 * <p>Immutable, hence safe to share between threads.
 */
public final class JointConfig {
  public static final JointConfig EMPTY =
      new JointConfig(MajorityConfig.EMPTY, MajorityConfig.EMPTY);

  private final MajorityConfig incoming;
  private final MajorityConfig outgoing;
  /** Union of both halves, sorted ascending. */
  private final SortedSet<Long> ids;

  public JointConfig(MajorityConfig incoming, MajorityConfig outgoing) {
    this.incoming = Objects.requireNonNull(incoming, "incoming");
    this.outgoing = Objects.requireNonNull(outgoing, "outgoing");
    TreeSet<Long> union = new TreeSet<>(incoming.ids());
    union.addAll(outgoing.ids());
    this.ids = Collections.unmodifiableSortedSet(union);
  }

  public MajorityConfig incoming() {
    return incoming;
  }

  public MajorityConfig outgoing() {
    return outgoing;
  }

  /** True while a joint configuration is in effect, i.e. the outgoing half is non-empty. */
  public boolean isJoint() {
    return !outgoing.isEmpty();
  }

  /** Voters of either half, sorted ascending, unmodifiable. */
  public Set<Long> ids() {
    return ids;
  }

  public boolean contains(long id) {
    return ids.contains(id);
  }

  /** The largest index committed by both halves: the smaller of their committed indexes. */
  public long committedIndex(AckedIndexer l) {
    return Math.min(incoming.committedIndex(l), outgoing.committedIndex(l));
  }

  /** WON if both halves won, LOST if either lost, else PENDING. */
  public VoteResult voteResult(Map<Long, Boolean> votes) {
    VoteResult in = incoming.voteResult(votes);
    VoteResult out = outgoing.voteResult(votes);
    if (in == VoteResult.WON && out == VoteResult.WON) {
      return VoteResult.WON;
    }
    if (in == VoteResult.LOST || out == VoteResult.LOST) {
      return VoteResult.LOST;
    }
    return VoteResult.PENDING;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JointConfig other
        && incoming.equals(other.incoming)
        && outgoing.equals(other.outgoing);
  }

  @Override
  public int hashCode() {
    return Objects.hash(incoming, outgoing);
  }

  /** {@code (1 2 3)&&(1 2 4)} when joint, else just the incoming config, {@code (1 2 3)}. */
  @Override
  public String toString() {
    return isJoint() ? incoming + "&&" + outgoing : incoming.toString();
  }
}
