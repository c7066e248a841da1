package io.flotilla.engine.raft.tracker;

/**
 * A leader's view of one follower (or learner): how much of the log it is known to hold
 * ({@code match}), what to send it next ({@code next}) and how (see {@link ProgressState} for the
 * state table).
 *
 * <p>Invariants kept by the transitions below (the plain setters are for the leader's own
 * bookkeeping and do not check): {@code 0 <= match < next}; {@code pendingSnapshot} is non-zero
 * only in {@link ProgressState#SNAPSHOT}; the inflight window is empty outside
 * {@link ProgressState#REPLICATE}; {@code msgAppFlowPaused} only matters in
 * {@link ProgressState#PROBE}.
 *
 * <p>Not thread-safe: owned by the group's single thread.
 */
public final class Progress {
  private long match;
  private long next;
  private ProgressState state = ProgressState.PROBE;
  /** In SNAPSHOT, the index of the snapshot being sent; 0 otherwise. */
  private long pendingSnapshot;
  /** True if the follower was heard from since the leader last checked the quorum. */
  private boolean recentActive;
  /** In PROBE, true once an append was sent and until the follower answers (or a heartbeat). */
  private boolean msgAppFlowPaused;
  private final Inflights inflights;
  private boolean isLearner;

  public Progress(long match, long next, int maxInflight, boolean isLearner) {
    this(match, next, new Inflights(maxInflight), isLearner);
  }

  private Progress(long match, long next, Inflights inflights, boolean isLearner) {
    this.match = match;
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  public long match() {
    return match;
  }

  public long next() {
    return next;
  }

  public void setMatch(long match) {
    this.match = match;
  }

  public void setNext(long next) {
    this.next = next;
  }

  public ProgressState state() {
    return state;
  }

  public long pendingSnapshot() {
    return pendingSnapshot;
  }

  public boolean recentActive() {
    return recentActive;
  }

  public void setRecentActive(boolean recentActive) {
    this.recentActive = recentActive;
  }

  public boolean msgAppFlowPaused() {
    return msgAppFlowPaused;
  }

  public void setMsgAppFlowPaused(boolean paused) {
    this.msgAppFlowPaused = paused;
  }

  public Inflights inflights() {
    return inflights;
  }

  public boolean isLearner() {
    return isLearner;
  }

  public void setLearner(boolean isLearner) {
    this.isLearner = isLearner;
  }

  private void resetState(ProgressState to) {
    msgAppFlowPaused = false;
    pendingSnapshot = 0;
    state = to;
    inflights.reset();
  }

  /**
   * Back to probing from the last known match. Leaving SNAPSHOT, the follower is assumed to hold
   * the snapshot it was sent, so probing starts after it.
   */
  public void becomeProbe() {
    long from = match + 1;
    if (state == ProgressState.SNAPSHOT) {
      from = Math.max(from, pendingSnapshot + 1);
    }
    resetState(ProgressState.PROBE);
    next = from;
  }

  /** Streams appends from {@code match + 1}. */
  public void becomeReplicate() {
    resetState(ProgressState.REPLICATE);
    next = match + 1;
  }

  /** Sends nothing but the snapshot at {@code snapshotIndex} until it is reported. */
  public void becomeSnapshot(long snapshotIndex) {
    resetState(ProgressState.SNAPSHOT);
    pendingSnapshot = snapshotIndex;
  }

  /**
   * Records that the follower acknowledged index {@code n}. Returns true if that raised
   * {@code match} (which also unpauses a probe); a stale (out-of-order) acknowledgement returns
   * false. {@code next} never moves backwards here.
   */
  public boolean maybeUpdate(long n) {
    boolean updated = false;
    if (match < n) {
      match = n;
      updated = true;
      msgAppFlowPaused = false;
    }
    next = Math.max(next, n + 1);
    return updated;
  }

  /**
   * Records that an append of {@code entries} entries ending at {@code lastIndex} was sent. In
   * REPLICATE it advances {@code next} optimistically and takes a slot of the inflight window; in
   * PROBE a non-empty append pauses until the follower answers (empty probes: {@link #probeSent}).
   * Appends are never sent in SNAPSHOT: throws {@link IllegalStateException}.
   */
  public void sentEntries(int entries, long lastIndex) {
    switch (state) {
      case REPLICATE -> {
        if (entries > 0) {
          next = lastIndex + 1;
          inflights.add(lastIndex);
        }
      }
      case PROBE -> {
        if (entries > 0) {
          msgAppFlowPaused = true;
        }
      }
      case SNAPSHOT -> throw new IllegalStateException(
          "sent " + entries + " entries up to " + lastIndex + " to a follower in " + this);
    }
  }

  /** Records that an empty probe was sent in PROBE: pauses until the follower answers. */
  public void probeSent() {
    msgAppFlowPaused = true;
  }

  /**
   * Handles the follower's rejection of the append whose previous index was {@code rejected};
   * {@code matchHint} is the follower's hint of the last index that may match. Returns false (and
   * changes nothing) for a stale rejection, one that does not answer the latest probe or that
   * rejects an index already known to match. Otherwise moves {@code next} back (never below
   * {@code match + 1}), unpauses, and returns true.
   */
  public boolean maybeDecrTo(long rejected, long matchHint) {
    if (state == ProgressState.REPLICATE) {
      if (rejected <= match) {
        return false;
      }
      // NB: in REPLICATE the rejection means appends were lost in flight; resend from match.
      next = match + 1;
      return true;
    }
    if (next - 1 != rejected) {
      return false;
    }
    next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
    msgAppFlowPaused = false;
    return true;
  }

  /**
   * Whether the leader must hold back appends to this follower: in PROBE until the outstanding
   * probe is answered, in REPLICATE while the inflight window is full, always in SNAPSHOT.
   */
  public boolean isPaused() {
    return switch (state) {
      case PROBE -> msgAppFlowPaused;
      case REPLICATE -> inflights.full();
      case SNAPSHOT -> true;
    };
  }

  /** A deep copy, inflight window included. */
  public Progress copy() {
    Progress p = new Progress(match, next, inflights.copy(), isLearner);
    p.state = state;
    p.pendingSnapshot = pendingSnapshot;
    p.recentActive = recentActive;
    p.msgAppFlowPaused = msgAppFlowPaused;
    return p;
  }

  /** Like {@code StateReplicate match=5 next=6 inflight=1}; flags appear only when set. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(stateName(state));
    sb.append(" match=").append(match).append(" next=").append(next);
    if (isLearner) {
      sb.append(" learner");
    }
    if (isPaused()) {
      sb.append(" paused");
    }
    if (pendingSnapshot > 0) {
      sb.append(" pendingSnap=").append(pendingSnapshot);
    }
    if (!recentActive) {
      sb.append(" inactive");
    }
    if (inflights.count() > 0) {
      sb.append(" inflight=").append(inflights.count());
      if (inflights.full()) {
        sb.append("[full]");
      }
    }
    return sb.toString();
  }

  private static String stateName(ProgressState s) {
    return switch (s) {
      case PROBE -> "StateProbe";
      case REPLICATE -> "StateReplicate";
      case SNAPSHOT -> "StateSnapshot";
    };
  }
}
