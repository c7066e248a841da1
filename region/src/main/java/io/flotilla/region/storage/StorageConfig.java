package io.flotilla.region.storage;

import java.nio.file.Path;

/**
 * Settings of a node's storage. Immutable; start from {@link #defaults(Path)} and change with the
 * {@code with...} methods; {@link NodeStorage#open} calls {@link #validate()}.
 *
 * @param dataDir the RocksDB directory (created if missing); one per node
 * @param fsync sync the WAL on every batch write; {@code false} is for experiments only: acknowledged
 *     writes can be lost on power failure (logged as a warning when opening)
 * @param entryCacheBytesPerGroup bytes of recent log entries kept in memory per group; 0 disables
 *     the cache
 * @param entryCacheBytesTotal bytes of cached entries across all groups of the node; a group that
 *     appends while the node is over this evicts its own oldest cached entries
 * @param blockCacheBytes RocksDB block cache shared by all column families
 * @param writeBufferBytes RocksDB memtable size per column family
 * @param maxWriteBuffers memtables per column family before writes stall
 * @param maxBackgroundJobs RocksDB flush and compaction threads
 * @param maxTotalWalBytes WAL bytes past which RocksDB flushes the column families that keep the
 *     oldest WAL file alive, so the WAL (and the replay after a restart) stays near this size
 *     however rarely a family is written (RocksDB's {@code max_total_wal_size})
 */
public record StorageConfig(
    Path dataDir,
    boolean fsync,
    long entryCacheBytesPerGroup,
    long entryCacheBytesTotal,
    long blockCacheBytes,
    long writeBufferBytes,
    int maxWriteBuffers,
    int maxBackgroundJobs,
    long maxTotalWalBytes) {

  private static final long MIB = 1L << 20;

  /**
   * fsync on, 4 MiB of entry cache per group and 256 MiB in all, 256 MiB block cache, 64 MiB
   * memtables, WAL bounded at 128 MiB (docs/storage.md says why).
   */
  public static StorageConfig defaults(Path dataDir) {
    return new StorageConfig(dataDir, true, 4 * MIB, 256 * MIB, 256 * MIB, 64 * MIB, 4, 2, 128 * MIB);
  }

  /** Checks every setting; throws {@link IllegalArgumentException} naming the first bad one. */
  public StorageConfig validate() {
    if (dataDir == null) {
      throw new IllegalArgumentException("dataDir: required");
    }
    if (entryCacheBytesPerGroup < 0) {
      throw new IllegalArgumentException(
          "entryCacheBytesPerGroup: must be >= 0 (0 = no cache), got " + entryCacheBytesPerGroup);
    }
    if (entryCacheBytesTotal < entryCacheBytesPerGroup) {
      throw new IllegalArgumentException("entryCacheBytesTotal: must be >= entryCacheBytesPerGroup ("
          + entryCacheBytesPerGroup + "), got " + entryCacheBytesTotal);
    }
    if (blockCacheBytes < MIB) {
      throw new IllegalArgumentException("blockCacheBytes: must be >= 1 MiB, got " + blockCacheBytes);
    }
    if (writeBufferBytes < 64 * 1024 || writeBufferBytes > 4096 * MIB) {
      throw new IllegalArgumentException(
          "writeBufferBytes: must be in [64 KiB, 4 GiB], got " + writeBufferBytes);
    }
    if (maxWriteBuffers < 2 || maxWriteBuffers > 64) {
      throw new IllegalArgumentException("maxWriteBuffers: must be in [2, 64], got " + maxWriteBuffers);
    }
    if (maxBackgroundJobs < 1 || maxBackgroundJobs > 256) {
      throw new IllegalArgumentException(
          "maxBackgroundJobs: must be in [1, 256], got " + maxBackgroundJobs);
    }
    if (maxTotalWalBytes < MIB || maxTotalWalBytes > 64 * 1024 * MIB) {
      throw new IllegalArgumentException("maxTotalWalBytes: must be in [1 MiB, 64 GiB], got " + maxTotalWalBytes);
    }
    return this;
  }

  public StorageConfig withFsync(boolean value) {
    return new StorageConfig(dataDir, value, entryCacheBytesPerGroup, entryCacheBytesTotal,
        blockCacheBytes, writeBufferBytes, maxWriteBuffers, maxBackgroundJobs, maxTotalWalBytes);
  }

  public StorageConfig withEntryCache(long bytesPerGroup, long bytesTotal) {
    return new StorageConfig(dataDir, fsync, bytesPerGroup, bytesTotal, blockCacheBytes,
        writeBufferBytes, maxWriteBuffers, maxBackgroundJobs, maxTotalWalBytes);
  }

  public StorageConfig withBlockCacheBytes(long value) {
    return new StorageConfig(dataDir, fsync, entryCacheBytesPerGroup, entryCacheBytesTotal, value,
        writeBufferBytes, maxWriteBuffers, maxBackgroundJobs, maxTotalWalBytes);
  }

  public StorageConfig withWriteBuffers(long bytes, int count) {
    return new StorageConfig(dataDir, fsync, entryCacheBytesPerGroup, entryCacheBytesTotal,
        blockCacheBytes, bytes, count, maxBackgroundJobs, maxTotalWalBytes);
  }

  public StorageConfig withMaxBackgroundJobs(int value) {
    return new StorageConfig(dataDir, fsync, entryCacheBytesPerGroup, entryCacheBytesTotal,
        blockCacheBytes, writeBufferBytes, maxWriteBuffers, value, maxTotalWalBytes);
  }

  public StorageConfig withMaxTotalWalBytes(long value) {
    return new StorageConfig(dataDir, fsync, entryCacheBytesPerGroup, entryCacheBytesTotal,
        blockCacheBytes, writeBufferBytes, maxWriteBuffers, maxBackgroundJobs, value);
  }

  public StorageConfig withDataDir(Path value) {
    return new StorageConfig(value, fsync, entryCacheBytesPerGroup, entryCacheBytesTotal,
        blockCacheBytes, writeBufferBytes, maxWriteBuffers, maxBackgroundJobs, maxTotalWalBytes);
  }
}
