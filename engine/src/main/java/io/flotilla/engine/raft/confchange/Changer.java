package io.flotilla.engine.raft.confchange;

import io.flotilla.engine.raft.ConfChangeSingle;
import io.flotilla.engine.raft.quorum.JointConfig;
import io.flotilla.engine.raft.quorum.MajorityConfig;
import io.flotilla.engine.raft.tracker.Progress;
import io.flotilla.engine.raft.tracker.ProgressTracker;
import io.flotilla.engine.raft.tracker.TrackerConfig;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Computes the configuration and progress map that result from a membership change (Raft thesis
 * §4.3), without touching the tracker: every method works on copies and returns them in a
 * {@link Result}, which the caller installs with {@link ProgressTracker#reset}.
 *
 * <p>Three operations: {@link #simple} changes at most one voter outside a joint configuration;
 * {@link #enterJoint} moves from {@code C_old} to {@code C_old && C_new}; {@link #leaveJoint} moves
 * from there to {@code C_new}, turning {@code learnersNext} into learners.
 *
 * <p>Invariants checked before and after each operation ({@link IllegalStateException} if broken,
 * since only a bug can break them): every voter and learner has a progress; learners are in
 * neither half of the voters; {@code learnersNext} are outgoing voters that are not incoming
 * voters; learners' progress is marked learner and voters' progress is not
 * ({@code learnersNext} included, they still vote in the outgoing half); a non-joint
 * configuration has no {@code learnersNext} and no {@code autoLeave}. Changes the current
 * configuration does not allow throw {@link InvalidConfChangeException}.
 */
public final class Changer {
  /**
   * A configuration and the progress of its members.
   *
   * @param progress a new map of new (copied or created) progress objects, ascending by id
   */
  public record Result(TrackerConfig config, Map<Long, Progress> progress) {}

  private final ProgressTracker tracker;
  private final long lastIndex;

  /** {@code lastIndex} is the leader's last log index, where new members are probed from. */
  public Changer(ProgressTracker tracker, long lastIndex) {
    this.tracker = Objects.requireNonNull(tracker, "tracker");
    this.lastIndex = lastIndex;
  }

  /** Enters {@code C_old && C_new} where {@code C_new} is the current voters with {@code ccs}. */
  public Result enterJoint(boolean autoLeave, List<ConfChangeSingle> ccs) {
    Draft d = checkAndCopy();
    if (d.isJoint()) {
      throw new InvalidConfChangeException(
          "config is already joint: " + tracker.config() + ", changes " + ccs);
    }
    if (d.incoming.isEmpty()) {
      throw new InvalidConfChangeException(
          "can't make a zero-voter config joint: " + tracker.config() + ", changes " + ccs);
    }
    d.outgoing.addAll(d.incoming);
    apply(d, ccs);
    d.autoLeave = autoLeave;
    return checkAndReturn(d);
  }

  /**
   * Leaves the joint configuration: {@code learnersNext} become learners and outgoing voters that
   * are neither incoming voters nor learners lose their progress.
   */
  public Result leaveJoint() {
    Draft d = checkAndCopy();
    if (!d.isJoint()) {
      throw new InvalidConfChangeException("can't leave a non-joint config: " + tracker.config());
    }
    for (long id : d.learnersNext) {
      d.learners.add(id);
      d.progress.get(id).setLearner(true);
    }
    d.learnersNext.clear();
    for (long id : d.outgoing) {
      if (!d.incoming.contains(id) && !d.learners.contains(id)) {
        d.progress.remove(id);
      }
    }
    d.outgoing.clear();
    d.autoLeave = false;
    return checkAndReturn(d);
  }

  /** Applies {@code ccs} directly, which is safe only if at most one voter is added or removed. */
  public Result simple(List<ConfChangeSingle> ccs) {
    Draft d = checkAndCopy();
    if (d.isJoint()) {
      throw new InvalidConfChangeException(
          "can't apply simple config change in joint config: " + tracker.config()
              + ", changes " + ccs);
    }
    apply(d, ccs);
    Set<Long> before = tracker.config().voters().incoming().ids();
    TreeSet<Long> changed = new TreeSet<>();
    before.stream().filter(id -> !d.incoming.contains(id)).forEach(changed::add);
    d.incoming.stream().filter(id -> !before.contains(id)).forEach(changed::add);
    if (changed.size() > 1) {
      throw new InvalidConfChangeException(
          "more than one voter changed without entering joint config: " + changed + " changed by "
              + ccs + " on " + tracker.config());
    }
    return checkAndReturn(d);
  }

  private void apply(Draft d, List<ConfChangeSingle> ccs) {
    for (ConfChangeSingle cc : ccs) {
      if (cc.nodeId() == 0) {
        continue; // etcd compatibility: a change of node 0 is a no-op.
      }
      if (cc.type() == null) {
        throw new InvalidConfChangeException("change without a type: " + cc + " in " + ccs);
      }
      switch (cc.type()) {
        case ADD_NODE -> makeVoter(d, cc.nodeId());
        case ADD_LEARNER -> makeLearner(d, cc.nodeId());
        case REMOVE_NODE -> remove(d, cc.nodeId());
      }
    }
    if (d.incoming.isEmpty()) {
      throw new InvalidConfChangeException(
          "removed all voters: " + ccs + " applied to " + tracker.config());
    }
  }

  /** Adds {@code id} as an incoming voter, promoting it if it is a learner. */
  private void makeVoter(Draft d, long id) {
    Progress pr = d.progress.get(id);
    if (pr == null) {
      initProgress(d, id, false);
      return;
    }
    pr.setLearner(false);
    d.learners.remove(id);
    d.learnersNext.remove(id);
    d.incoming.add(id);
  }

  /**
   * Makes {@code id} a learner. An incoming voter that is also an outgoing voter cannot become a
   * learner yet (it still votes in the outgoing half): it is staged in {@code learnersNext}.
   */
  private void makeLearner(Draft d, long id) {
    Progress pr = d.progress.get(id);
    if (pr == null) {
      initProgress(d, id, true);
      return;
    }
    if (pr.isLearner()) {
      return;
    }
    remove(d, id);
    d.progress.put(id, pr); // NB: keep the progress remove() may have dropped.
    if (d.outgoing.contains(id)) {
      d.learnersNext.add(id);
    } else {
      pr.setLearner(true);
      d.learners.add(id);
    }
  }

  /** Removes {@code id}; its progress stays while it is still an outgoing voter. */
  private void remove(Draft d, long id) {
    if (!d.progress.containsKey(id)) {
      return;
    }
    d.incoming.remove(id);
    d.learners.remove(id);
    d.learnersNext.remove(id);
    if (!d.outgoing.contains(id)) {
      d.progress.remove(id);
    }
  }

  /**
   * A new member is probed from the leader's last index and counts as recently active, so that a
   * check-quorum right after the change does not depose the leader before it heard from it.
   */
  private void initProgress(Draft d, long id, boolean isLearner) {
    if (isLearner) {
      d.learners.add(id);
    } else {
      d.incoming.add(id);
    }
    Progress pr = new Progress(0, Math.max(lastIndex, 1), tracker.maxInflight(), isLearner);
    pr.setRecentActive(true);
    d.progress.put(id, pr);
  }

  private Draft checkAndCopy() {
    TrackerConfig cfg = tracker.config();
    TreeMap<Long, Progress> progress = new TreeMap<>();
    tracker.progress().forEach((id, pr) -> progress.put(id, pr.copy()));
    Draft d = new Draft(cfg, progress);
    d.checkInvariants();
    return d;
  }

  private static Result checkAndReturn(Draft d) {
    d.checkInvariants();
    return new Result(d.toConfig(), d.progress);
  }

  /** The mutable working copy a change is applied to. */
  private static final class Draft {
    final TreeSet<Long> incoming;
    final TreeSet<Long> outgoing;
    final TreeSet<Long> learners;
    final TreeSet<Long> learnersNext;
    boolean autoLeave;
    final TreeMap<Long, Progress> progress;

    Draft(TrackerConfig cfg, TreeMap<Long, Progress> progress) {
      this.incoming = new TreeSet<>(cfg.voters().incoming().ids());
      this.outgoing = new TreeSet<>(cfg.voters().outgoing().ids());
      this.learners = new TreeSet<>(cfg.learners());
      this.learnersNext = new TreeSet<>(cfg.learnersNext());
      this.autoLeave = cfg.autoLeave();
      this.progress = progress;
    }

    boolean isJoint() {
      return !outgoing.isEmpty();
    }

    TrackerConfig toConfig() {
      return new TrackerConfig(
          new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing)),
          learners, learnersNext, autoLeave);
    }

    void checkInvariants() {
      TreeSet<Long> members = new TreeSet<>(incoming);
      members.addAll(outgoing);
      members.addAll(learners);
      members.addAll(learnersNext);
      for (long id : members) {
        if (!progress.containsKey(id)) {
          throw broken("no progress for member " + id);
        }
      }
      for (long id : learnersNext) {
        if (!outgoing.contains(id) || incoming.contains(id)) {
          throw broken(id + " is in learnersNext but not only an outgoing voter");
        }
        if (progress.get(id).isLearner()) {
          throw broken(id + " is in learnersNext but its progress is marked learner");
        }
      }
      for (long id : learners) {
        if (incoming.contains(id) || outgoing.contains(id) || learnersNext.contains(id)) {
          throw broken(id + " is a learner and a voter");
        }
        if (!progress.get(id).isLearner()) {
          throw broken(id + " is a learner but its progress is not marked learner");
        }
      }
      for (long id : members) {
        if (!learners.contains(id) && progress.get(id).isLearner()) {
          throw broken(id + " is a voter but its progress is marked learner");
        }
      }
      if (!isJoint() && (!learnersNext.isEmpty() || autoLeave)) {
        throw broken("non-joint config with learnersNext or autoLeave");
      }
    }

    private IllegalStateException broken(String what) {
      return new IllegalStateException("conf change invariant broken: " + what + " in voters="
          + incoming + "&&" + outgoing + " learners=" + learners + " learnersNext=" + learnersNext
          + " autoLeave=" + autoLeave);
    }
  }
}
