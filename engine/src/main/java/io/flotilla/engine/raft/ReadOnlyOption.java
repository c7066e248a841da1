package io.flotilla.engine.raft;

/** How the leader confirms it still leads before answering a read. */
public enum ReadOnlyOption {
  /** ReadIndex: a heartbeat round acknowledged by a quorum confirms leadership. Always safe. */
  SAFE,
  /**
   * Lease read: answered without a round trip while the leader holds a lease (a quorum heard from
   * it less than {@link Config#leaseTicks()} ago). Needs check-quorum; assumes bounded clock drift.
   */
  LEASE_BASED
}
