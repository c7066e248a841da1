package io.flotilla.router;

/**
 * The transaction was rolled back before it could commit: its locks expired (its TTL passed
 * without a heartbeat) and another transaction rolled it back, or it was rolled back explicitly.
 * Nothing of it is visible. Retry the whole transaction.
 */
public final class TxnAbortedException extends KvException {
  private static final long serialVersionUID = 1L;

  private final long startTs;

  public TxnAbortedException(long startTs, String why) {
    super("transaction " + startTs + " was aborted: " + why);
    this.startTs = startTs;
  }

  public long startTs() {
    return startTs;
  }
}
