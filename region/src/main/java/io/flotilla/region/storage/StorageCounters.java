package io.flotilla.region.storage;

import java.util.concurrent.atomic.LongAdder;

/**
 * Monotonic counters of one {@link NodeStorage}, for metrics and benchmarks (entries per fsync is
 * {@code entriesWritten / fsyncs}). Updated by whichever thread writes or reads; readable from any
 * thread.
 */
public final class StorageCounters {
  private final LongAdder batchesWritten = new LongAdder();
  private final LongAdder entriesWritten = new LongAdder();
  private final LongAdder bytesWritten = new LongAdder();
  private final LongAdder fsyncs = new LongAdder();
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder cacheMisses = new LongAdder();

  /** {@code db.write} calls made for {@link StorageBatch}es (empty batches are not written). */
  public long batchesWritten() {
    return batchesWritten.sum();
  }

  /** Log entries put by written batches. */
  public long entriesWritten() {
    return entriesWritten.sum();
  }

  /** Bytes of written batches, as RocksDB counts them. */
  public long bytesWritten() {
    return bytesWritten.sum();
  }

  /**
   * Synced writes issued. RocksDB may fold concurrent synced writes of several threads into one
   * fsync, so this is an upper bound.
   */
  public long fsyncs() {
    return fsyncs.sum();
  }

  /** Entries read that were served by an entry cache (term lookups it serves are not counted: too hot). */
  public long cacheHits() {
    return cacheHits.sum();
  }

  /** Entries (and terms) read that had to come from RocksDB. */
  public long cacheMisses() {
    return cacheMisses.sum();
  }

  void recordBatch(long entries, long bytes, boolean synced) {
    batchesWritten.increment();
    entriesWritten.add(entries);
    bytesWritten.add(bytes);
    if (synced) {
      fsyncs.increment();
    }
  }

  void recordHits(long n) {
    cacheHits.add(n);
  }

  void recordMisses(long n) {
    cacheMisses.add(n);
  }

  @Override
  public String toString() {
    return "batches=" + batchesWritten() + " entries=" + entriesWritten() + " fsyncs=" + fsyncs()
        + " cacheHits=" + cacheHits() + " cacheMisses=" + cacheMisses();
  }
}
