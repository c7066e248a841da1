package io.flotilla.engine.raft;

import java.util.List;

/**
 * A group's membership as persisted with snapshots. When {@code votersOutgoing} is non-empty the
 * group is in a joint configuration (Raft thesis §4.3): decisions need a majority of both
 * {@code voters} and {@code votersOutgoing}. {@code learnersNext} are voters of the outgoing
 * configuration that become learners when the joint configuration is left.
 */
public record ConfState(
    List<Long> voters,
    List<Long> learners,
    List<Long> votersOutgoing,
    List<Long> learnersNext,
    boolean autoLeave) {
  public static final ConfState EMPTY = new ConfState(List.of(), List.of(), List.of(), List.of(), false);

  public ConfState {
    voters = List.copyOf(voters);
    learners = List.copyOf(learners);
    votersOutgoing = List.copyOf(votersOutgoing);
    learnersNext = List.copyOf(learnersNext);
  }

  public static ConfState ofVoters(Long... voters) {
    return new ConfState(List.of(voters), List.of(), List.of(), List.of(), false);
  }

  public boolean isJoint() {
    return !votersOutgoing.isEmpty();
  }
}
