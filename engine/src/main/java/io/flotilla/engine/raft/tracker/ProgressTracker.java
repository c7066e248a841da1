package io.flotilla.engine.raft.tracker;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.quorum.VoteResult;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * The current membership ({@link TrackerConfig}), a {@link Progress} per member, and the votes of
 * the current election.
 *
 * <p>Invariant: every voter and learner of {@link #config()} has a progress entry (checked by
 * {@link #reset}); {@code confchange.Changer} builds the values that satisfy the rest. Iteration
 * is always in ascending id order.
 *
 * <p>Not thread-safe: owned by the group's single thread.
 */
public final class ProgressTracker {
  /** The outcome of the current election and the votes behind it (voters only). */
  public record TallyResult(int granted, int rejected, VoteResult result) {}

  private final int maxInflight;
  private TrackerConfig config = TrackerConfig.EMPTY;
  private TreeMap<Long, Progress> progress = new TreeMap<>();
  private SortedMap<Long, Progress> progressView = Collections.unmodifiableSortedMap(progress);
  /** Voter id to granted; only a node's first vote of an election is recorded. */
  private final TreeMap<Long, Boolean> votes = new TreeMap<>();

  public ProgressTracker(int maxInflight) {
    if (maxInflight <= 0) {
      throw new IllegalArgumentException("maxInflight: must be > 0, got " + maxInflight);
    }
    this.maxInflight = maxInflight;
  }

  /** The inflight window of every progress this tracker's conf changes create. */
  public int maxInflight() {
    return maxInflight;
  }

  public TrackerConfig config() {
    return config;
  }

  /** Member id to progress, ascending; the map is read-only, the progress objects are live. */
  public Map<Long, Progress> progress() {
    return progressView;
  }

  /** The progress of {@code id}, or null if it is not a member. */
  public Progress get(long id) {
    return progress.get(id);
  }

  /**
   * Replaces the configuration and the progress map (after a conf change or a snapshot). The map
   * is copied; its progress objects are taken over, not copied. Throws
   * {@link IllegalStateException} if a member of {@code cfg} has no progress.
   */
  public void reset(TrackerConfig cfg, Map<Long, Progress> progress) {
    TreeMap<Long, Progress> p = new TreeMap<>(progress);
    Set<Long> members = new TreeSet<>(cfg.voters().ids());
    members.addAll(cfg.learners());
    for (long id : members) {
      if (p.get(id) == null) {
        throw new IllegalStateException(
            "member " + id + " has no progress: config " + cfg + ", progress of " + p.keySet());
      }
    }
    this.config = cfg;
    this.progress = p;
    this.progressView = Collections.unmodifiableSortedMap(p);
  }

  /** The configuration in its persisted form, ids sorted ascending. */
  public ConfState confState() {
    return new ConfState(
        new ArrayList<>(config.voters().incoming().ids()),
        new ArrayList<>(config.learners()),
        new ArrayList<>(config.voters().outgoing().ids()),
        new ArrayList<>(config.learnersNext()),
        config.autoLeave());
  }

  /** True if the group has exactly one voter and is not in a joint configuration. */
  public boolean isSingleton() {
    return config.voters().incoming().size() == 1 && !config.voters().isJoint();
  }

  /** The largest index a quorum (of both halves when joint) has matched. */
  public long committed() {
    return config.voters().committedIndex(id -> {
      Progress pr = progress.get(id);
      return pr == null ? 0 : pr.match();
    });
  }

  /**
   * Whether a quorum of voters was recently active, judged by {@link Progress#recentActive()} as
   * stored (the leader marks itself active before asking). Learners do not count.
   */
  public boolean quorumActive() {
    TreeMap<Long, Boolean> active = new TreeMap<>();
    for (long id : config.voters().ids()) {
      Progress pr = progress.get(id);
      if (pr != null) {
        active.put(id, pr.recentActive());
      }
    }
    return config.voters().voteResult(active) == VoteResult.WON;
  }

  /** Voters of either half, sorted ascending. */
  public Set<Long> voterNodes() {
    return config.voters().ids();
  }

  /** Learners and learners-to-be ({@code learnersNext}), sorted ascending. */
  public Set<Long> learnerNodes() {
    TreeSet<Long> ids = new TreeSet<>(config.learners());
    ids.addAll(config.learnersNext());
    return Collections.unmodifiableSortedSet(ids);
  }

  /** Calls {@code f} on every member's progress in ascending id order; must not call reset. */
  public void visit(BiConsumer<Long, Progress> f) {
    for (Map.Entry<Long, Progress> e : progress.entrySet()) {
      f.accept(e.getKey(), e.getValue());
    }
  }

  /** Forgets the votes of the previous election. */
  public void resetVotes() {
    votes.clear();
  }

  /** Records {@code id}'s vote; later votes of the same node in the same election are ignored. */
  public void recordVote(long id, boolean granted) {
    votes.putIfAbsent(id, granted);
  }

  /** Counts the recorded votes of voters (of either half) and the election's outcome so far. */
  public TallyResult tallyVotes() {
    int granted = 0;
    int rejected = 0;
    for (long id : config.voters().ids()) {
      Boolean v = votes.get(id);
      if (v == null) {
        continue;
      }
      if (v) {
        granted++;
      } else {
        rejected++;
      }
    }
    return new TallyResult(granted, rejected, config.voters().voteResult(votes));
  }
}
