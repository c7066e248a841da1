package io.flotilla.engine.raft;

/**
 * The settings of one Raft group member. Immutable; build with {@link #builder(long, RandomSource)}
 * and {@link #validate()} before use ({@link RawNode} does).
 *
 * @param id this member's id, never 0
 * @param electionTick ticks a follower waits without hearing from a leader before campaigning; the
 *     actual timeout is randomized in {@code [electionTick, 2 * electionTick)}
 * @param heartbeatTick ticks between a leader's heartbeats; less than {@code electionTick}
 * @param applied the index already applied by the state machine when restarting
 * @param maxSizePerMsg max entry bytes in one append message (at least one entry is always sent)
 * @param maxCommittedSizePerReady max bytes of committed entries handed out in one {@link Ready}
 * @param maxInflightMsgs append messages in flight per follower in replicate state
 * @param maxUncommittedEntriesSize bytes of uncommitted log a leader accepts before refusing
 *     proposals; 0 means no limit
 * @param checkQuorum a leader that has not heard from a quorum within an election timeout steps
 *     down, and followers ignore votes while they hear from a leader
 * @param preVote campaign first with a pre-vote that does not raise terms (Raft thesis §9.6)
 * @param readOnlyOption how reads confirm leadership
 * @param leaseTicks how long a lease lasts from the heartbeat round that granted it; must be less
 *     than {@code electionTick} (the margin absorbs clock drift)
 * @param disableProposalForwarding followers refuse proposals instead of forwarding them
 * @param restarted whether this member's state may be from an earlier life in which it answered a
 *     leader's heartbeats; with lease reads such a member refuses votes (and does not campaign) for
 *     an election timeout after it starts (thesis §6.4.1). False for a member created in this life
 *     that cannot have helped grant a lease yet (a new split's replica: the new region has had no
 *     leader).
 * @param random the source of election jitter
 */
public record Config(
    long id,
    int electionTick,
    int heartbeatTick,
    long applied,
    long maxSizePerMsg,
    long maxCommittedSizePerReady,
    int maxInflightMsgs,
    long maxUncommittedEntriesSize,
    boolean checkQuorum,
    boolean preVote,
    ReadOnlyOption readOnlyOption,
    int leaseTicks,
    boolean disableProposalForwarding,
    boolean restarted,
    RandomSource random) {

  public static Builder builder(long id, RandomSource random) {
    return new Builder(id, random);
  }

  /** Checks every setting; throws {@link IllegalArgumentException} naming the first bad one. */
  public Config validate() {
    if (id == 0) {
      throw new IllegalArgumentException("id: must not be 0 (0 means 'no node')");
    }
    if (heartbeatTick <= 0) {
      throw new IllegalArgumentException("heartbeatTick: must be > 0, got " + heartbeatTick);
    }
    if (electionTick <= heartbeatTick) {
      throw new IllegalArgumentException(
          "electionTick: must be > heartbeatTick (" + heartbeatTick + "), got " + electionTick);
    }
    if (applied < 0) {
      throw new IllegalArgumentException("applied: must be >= 0, got " + applied);
    }
    if (maxSizePerMsg <= 0) {
      throw new IllegalArgumentException("maxSizePerMsg: must be > 0, got " + maxSizePerMsg);
    }
    if (maxCommittedSizePerReady <= 0) {
      throw new IllegalArgumentException(
          "maxCommittedSizePerReady: must be > 0, got " + maxCommittedSizePerReady);
    }
    if (maxInflightMsgs <= 0) {
      throw new IllegalArgumentException("maxInflightMsgs: must be > 0, got " + maxInflightMsgs);
    }
    if (maxUncommittedEntriesSize < 0) {
      throw new IllegalArgumentException(
          "maxUncommittedEntriesSize: must be >= 0 (0 = no limit), got " + maxUncommittedEntriesSize);
    }
    if (readOnlyOption == null) {
      throw new IllegalArgumentException("readOnlyOption: must be SAFE or LEASE_BASED");
    }
    if (readOnlyOption == ReadOnlyOption.LEASE_BASED && !checkQuorum) {
      throw new IllegalArgumentException(
          "readOnlyOption: LEASE_BASED needs checkQuorum=true (a lease is only safe if a leader"
              + " that lost its quorum steps down); use SAFE or enable checkQuorum");
    }
    if (readOnlyOption == ReadOnlyOption.LEASE_BASED
        && (leaseTicks <= 0 || leaseTicks >= electionTick)) {
      throw new IllegalArgumentException(
          "leaseTicks: must be in [1, electionTick=" + electionTick + "), got " + leaseTicks);
    }
    if (random == null) {
      throw new IllegalArgumentException("random: a RandomSource is required");
    }
    return this;
  }

  /** Builder with the defaults a production group uses. */
  public static final class Builder {
    private final long id;
    private final RandomSource random;
    private int electionTick = 10;
    private int heartbeatTick = 2;
    private long applied;
    private long maxSizePerMsg = 1 << 20;
    private long maxCommittedSizePerReady = 16 << 20;
    private int maxInflightMsgs = 256;
    private long maxUncommittedEntriesSize = 64L << 20;
    private boolean checkQuorum = true;
    private boolean preVote = true;
    private ReadOnlyOption readOnlyOption = ReadOnlyOption.SAFE;
    private Integer leaseTicks;
    private boolean disableProposalForwarding;
    private boolean restarted = true;

    private Builder(long id, RandomSource random) {
      this.id = id;
      this.random = random;
    }

    public Builder electionTick(int v) {
      electionTick = v;
      return this;
    }

    public Builder heartbeatTick(int v) {
      heartbeatTick = v;
      return this;
    }

    public Builder applied(long v) {
      applied = v;
      return this;
    }

    public Builder maxSizePerMsg(long v) {
      maxSizePerMsg = v;
      return this;
    }

    public Builder maxCommittedSizePerReady(long v) {
      maxCommittedSizePerReady = v;
      return this;
    }

    public Builder maxInflightMsgs(int v) {
      maxInflightMsgs = v;
      return this;
    }

    public Builder maxUncommittedEntriesSize(long v) {
      maxUncommittedEntriesSize = v;
      return this;
    }

    public Builder checkQuorum(boolean v) {
      checkQuorum = v;
      return this;
    }

    public Builder preVote(boolean v) {
      preVote = v;
      return this;
    }

    public Builder readOnlyOption(ReadOnlyOption v) {
      readOnlyOption = v;
      return this;
    }

    /** Defaults to {@code electionTick - 2} (at least 1). */
    public Builder leaseTicks(int v) {
      leaseTicks = v;
      return this;
    }

    public Builder disableProposalForwarding(boolean v) {
      disableProposalForwarding = v;
      return this;
    }

    /** Defaults to true: assume the state may come from an earlier life (see {@link Config}). */
    public Builder restarted(boolean v) {
      restarted = v;
      return this;
    }

    public Config build() {
      int lease = leaseTicks != null ? leaseTicks : Math.max(1, electionTick - 2);
      return new Config(
          id,
          electionTick,
          heartbeatTick,
          applied,
          maxSizePerMsg,
          maxCommittedSizePerReady,
          maxInflightMsgs,
          maxUncommittedEntriesSize,
          checkQuorum,
          preVote,
          readOnlyOption,
          lease,
          disableProposalForwarding,
          restarted,
          random);
    }
  }
}
