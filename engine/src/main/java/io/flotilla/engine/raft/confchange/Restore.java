package io.flotilla.engine.raft.confchange;

import io.flotilla.engine.raft.ConfChangeSingle;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.tracker.ProgressTracker;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Rebuilds a tracker configuration from a persisted {@link ConfState} (on restart or when a
 * snapshot is applied) by replaying it as conf changes on an empty tracker, so the result obeys
 * every invariant {@link Changer} checks.
 *
 * <p>For a joint state, say {@code voters=(1 2 3) learners=(5) outgoing=(1 2 4 6)
 * learnersNext=(4)}: simple changes add 1, 2, 4, 6 one by one, giving {@code (1 2 4 6)}; then
 * {@link Changer#enterJoint} with {@code remove 1 2 4 6; add 1 2 3; add-learner 5; add-learner 4}
 * rotates that into the outgoing half, giving {@code (1 2 3)&&(1 2 4 6) learners=(5)
 * learnersNext=(4)}. A non-joint state is just a sequence of simple changes adding the voters,
 * then the learners. (Whether 5 was a learner before the joint state cannot be told and does not
 * matter.)
 */
public final class Restore {
  private Restore() {}

  /**
   * The configuration and progress described by {@code cs}. {@code fresh} must be empty (no
   * configuration, no progress; throws {@link IllegalStateException} otherwise) and is not
   * modified: install the result with {@link ProgressTracker#reset}. New progress is probed from
   * {@code lastIndex}. Throws {@link InvalidConfChangeException} if {@code cs} is not a valid
   * configuration.
   */
  public static Changer.Result restore(ProgressTracker fresh, long lastIndex, ConfState cs) {
    if (!fresh.progress().isEmpty() || !fresh.config().voters().ids().isEmpty()
        || !fresh.config().learners().isEmpty()) {
      throw new IllegalStateException("restore needs an empty tracker, got config "
          + fresh.config() + " with progress of " + fresh.progress().keySet());
    }
    // Works on a scratch tracker so that each step sees the previous one's result.
    ProgressTracker scratch = new ProgressTracker(fresh.maxInflight());
    Changer.Result result = new Changer.Result(fresh.config(), new TreeMap<>());
    List<ConfChangeSingle> outgoing = new ArrayList<>();
    List<ConfChangeSingle> incoming = new ArrayList<>();
    toConfChangeSingles(cs, outgoing, incoming);
    if (outgoing.isEmpty()) {
      for (ConfChangeSingle cc : incoming) {
        result = step(scratch, new Changer(scratch, lastIndex).simple(List.of(cc)));
      }
    } else {
      for (ConfChangeSingle cc : outgoing) {
        result = step(scratch, new Changer(scratch, lastIndex).simple(List.of(cc)));
      }
      result = new Changer(scratch, lastIndex).enterJoint(cs.autoLeave(), incoming);
    }
    return result;
  }

  private static Changer.Result step(ProgressTracker scratch, Changer.Result r) {
    scratch.reset(r.config(), r.progress());
    return r;
  }

  /**
   * Splits {@code cs} into the changes that build its outgoing half (when joint) and those that,
   * applied on top while entering the joint state, build the incoming half.
   */
  private static void toConfChangeSingles(
      ConfState cs, List<ConfChangeSingle> outgoing, List<ConfChangeSingle> incoming) {
    for (long id : cs.votersOutgoing()) {
      outgoing.add(new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, id));
    }
    for (long id : cs.votersOutgoing()) {
      incoming.add(new ConfChangeSingle(ConfChangeSingle.Type.REMOVE_NODE, id));
    }
    for (long id : cs.voters()) {
      incoming.add(new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, id));
    }
    for (long id : cs.learners()) {
      incoming.add(new ConfChangeSingle(ConfChangeSingle.Type.ADD_LEARNER, id));
    }
    for (long id : cs.learnersNext()) {
      incoming.add(new ConfChangeSingle(ConfChangeSingle.Type.ADD_LEARNER, id));
    }
  }
}
