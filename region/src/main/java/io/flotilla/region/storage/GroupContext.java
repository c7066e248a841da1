package io.flotilla.region.storage;

import java.util.concurrent.atomic.AtomicBoolean;

/** What every group's storage of one node shares. Any thread. */
record GroupContext(
    RocksDatabase rdb,
    StorageCounters counters,
    SnapshotProvider snapshotProvider,
    CacheBudget cacheBudget,
    long cacheBytesPerGroup,
    AtomicBoolean closed) {

  void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("node storage is closed");
    }
  }
}
