package io.flotilla.engine.raft.tracker;

/**
 * How the leader replicates to one follower. Transitions (all driven by the leader):
 *
 * <pre>
 *   from \ to  | PROBE                         | REPLICATE         | SNAPSHOT
 *   -----------+-------------------------------+-------------------+---------------------------
 *   PROBE      | -                             | append accepted   | needed entries compacted
 *   REPLICATE  | append rejected / unreachable | -                 | needed entries compacted
 *   SNAPSHOT   | snapshot applied or failed    | -                 | -
 * </pre>
 */
public enum ProgressState {
  /**
   * The leader does not know the follower's last index: it sends at most one append per heartbeat
   * interval and waits for the answer to find where the logs agree.
   */
  PROBE,
  /**
   * The follower is known to be caught up to {@code match}: appends are streamed optimistically,
   * bounded by the inflight window.
   */
  REPLICATE,
  /** A snapshot was sent; nothing else is sent until it is reported applied or failed. */
  SNAPSHOT
}
