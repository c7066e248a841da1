package io.flotilla.region.storage;

/**
 * RocksDB failed (I/O error, corruption, no space). The write that raised it did not take effect in
 * memory; whether it reached the disk is unknown. A driver should stop the node: continuing after a
 * failed log write can break Raft's promises.
 */
public final class StorageException extends RuntimeException {
  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
