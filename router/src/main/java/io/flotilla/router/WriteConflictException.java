package io.flotilla.router;

/**
 * A transaction's commit found a key written by another transaction that committed after this
 * one started (or is committing it now): nothing of this transaction was committed; it was rolled
 * back. Retry the whole transaction (a new {@code begin()}), reads included.
 */
public final class WriteConflictException extends KvException {
  private static final long serialVersionUID = 1L;

  private final byte[] key;
  private final long startTs;
  private final long conflictStartTs;
  private final long conflictCommitTs;

  public WriteConflictException(byte[] key, long startTs, long conflictStartTs, long conflictCommitTs) {
    super("write conflict on key " + KvEntry.printable(key) + ": transaction " + startTs + " lost to transaction "
        + conflictStartTs + (conflictCommitTs == 0 ? " (committing)" : " committed at " + conflictCommitTs)
        + "; retry the transaction");
    this.key = key.clone();
    this.startTs = startTs;
    this.conflictStartTs = conflictStartTs;
    this.conflictCommitTs = conflictCommitTs;
  }

  public byte[] key() {
    return key.clone();
  }

  public long startTs() {
    return startTs;
  }

  /** The start timestamp of the transaction that won. */
  public long conflictStartTs() {
    return conflictStartTs;
  }

  /** When the winner committed, or 0 if it held a lock (was committing) when this one met it. */
  public long conflictCommitTs() {
    return conflictCommitTs;
  }
}
