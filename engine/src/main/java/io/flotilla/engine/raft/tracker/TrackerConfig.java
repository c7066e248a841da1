package io.flotilla.engine.raft.tracker;

import io.flotilla.engine.raft.quorum.JointConfig;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A group's membership as the leader tracks it.
 *
 * <p>Invariants (checked here; {@code confchange.Changer} checks the rest against the progress
 * map): {@code learners} share no id with either half of {@code voters}; {@code learnersNext} is
 * a subset of {@code voters.outgoing()} (voters being demoted: they turn into learners when the
 * joint configuration is left, and until then count as outgoing voters). The sets are sorted and
 * unmodifiable.
 *
 * @param voters the (possibly joint) voter configuration
 * @param learners non-voting members that receive the log
 * @param learnersNext outgoing voters that become learners when the joint configuration is left
 * @param autoLeave whether the leader leaves the joint configuration by itself once it applies it
 */
public record TrackerConfig(
    JointConfig voters, Set<Long> learners, Set<Long> learnersNext, boolean autoLeave) {
  public static final TrackerConfig EMPTY =
      new TrackerConfig(JointConfig.EMPTY, Set.of(), Set.of(), false);

  public TrackerConfig {
    Objects.requireNonNull(voters, "voters");
    learners = Collections.unmodifiableSortedSet(new TreeSet<>(learners));
    learnersNext = Collections.unmodifiableSortedSet(new TreeSet<>(learnersNext));
    for (long id : learners) {
      if (voters.contains(id)) {
        throw new IllegalArgumentException(
            "learner " + id + " is also a voter: voters=" + voters + " learners=" + learners);
      }
    }
    for (long id : learnersNext) {
      if (!voters.outgoing().contains(id)) {
        throw new IllegalArgumentException("learnerNext " + id + " is not an outgoing voter: "
            + "voters=" + voters + " learnersNext=" + learnersNext);
      }
    }
  }

  /** Like {@code voters=(1 2 3)&&(1 2 4) learners=(5) learners_next=(4) autoleave}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("voters=").append(voters);
    if (!learners.isEmpty()) {
      sb.append(" learners=").append(ids(learners));
    }
    if (!learnersNext.isEmpty()) {
      sb.append(" learners_next=").append(ids(learnersNext));
    }
    if (autoLeave) {
      sb.append(" autoleave");
    }
    return sb.toString();
  }

  private static String ids(Set<Long> ids) {
    StringBuilder sb = new StringBuilder("(");
    for (long id : ids) {
      sb.append(sb.length() > 1 ? " " : "").append(id);
    }
    return sb.append(')').toString();
  }
}
