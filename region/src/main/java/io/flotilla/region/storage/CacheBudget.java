package io.flotilla.region.storage;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The node-wide byte budget shared by all {@link EntryCache}s. Any thread (each cache charges it
 * from the thread that owns its group).
 */
final class CacheBudget {
  private final long limitBytes;
  private final AtomicLong usedBytes = new AtomicLong();

  CacheBudget(long limitBytes) {
    this.limitBytes = limitBytes;
  }

  void charge(long bytes) {
    usedBytes.addAndGet(bytes);
  }

  void release(long bytes) {
    usedBytes.addAndGet(-bytes);
  }

  boolean overLimit() {
    return usedBytes.get() > limitBytes;
  }

  long usedBytes() {
    return usedBytes.get();
  }
}
