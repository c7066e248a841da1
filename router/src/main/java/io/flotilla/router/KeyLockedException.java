package io.flotilla.router;

/**
 * A read (or a prewrite) met a lock of another transaction that is still alive, and the lock was
 * not released before the call's deadline. Names the lock's owner: its start timestamp, primary key
 * and TTL. Nothing was written by the call; retry later, or after the owner finished.
 */
public final class KeyLockedException extends KvException {
  private static final long serialVersionUID = 1L;

  private final byte[] key;
  private final long lockStartTs;
  private final byte[] primary;
  private final long ttlMs;

  public KeyLockedException(byte[] key, long lockStartTs, byte[] primary, long ttlMs) {
    super("key " + KvEntry.printable(key) + " is locked by transaction " + lockStartTs + " (primary key "
        + KvEntry.printable(primary) + ", lock TTL " + ttlMs + " ms), which is still alive at the deadline");
    this.key = key.clone();
    this.lockStartTs = lockStartTs;
    this.primary = primary.clone();
    this.ttlMs = ttlMs;
  }

  public byte[] key() {
    return key.clone();
  }

  public long lockStartTs() {
    return lockStartTs;
  }

  public byte[] primary() {
    return primary.clone();
  }

  public long ttlMs() {
    return ttlMs;
  }
}
