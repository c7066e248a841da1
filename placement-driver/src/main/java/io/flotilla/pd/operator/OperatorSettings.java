package io.flotilla.pd.operator;

/**
 * The operator controller's run-time settings (listed and changed as the {@code operator-controller}
 * entry of ListSchedulers/SetScheduler). Each value is read fresh by every decision.
 *
 * <p>Threads: any thread (volatile fields).
 */
public final class OperatorSettings {
  public static final long DEFAULT_MOVE_TIMEOUT_MS = 10 * 60_000L;
  public static final long DEFAULT_LEADER_TIMEOUT_MS = 60_000L;
  public static final long DEFAULT_SPLIT_TIMEOUT_MS = 60_000L;
  public static final int DEFAULT_STORE_LIMIT = 4;
  public static final int DEFAULT_MAX_ENDED = 128;

  /** Add, remove and move peers, leave joint. */
  public volatile long moveTimeoutMs = DEFAULT_MOVE_TIMEOUT_MS;
  public volatile long transferLeaderTimeoutMs = DEFAULT_LEADER_TIMEOUT_MS;
  public volatile long splitTimeoutMs = DEFAULT_SPLIT_TIMEOUT_MS;
  /** Snapshots a store may send at once (operators moving from it, and its own count). */
  public volatile int storeLimitSend = DEFAULT_STORE_LIMIT;
  /** Snapshots a store may receive at once (operators adding to it, and its own count). */
  public volatile int storeLimitReceive = DEFAULT_STORE_LIMIT;
  /** Ended operators kept for listing. */
  public volatile int maxEnded = DEFAULT_MAX_ENDED;
}
