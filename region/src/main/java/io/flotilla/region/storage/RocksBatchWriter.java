package io.flotilla.region.storage;

import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * A RocksDB {@link WriteBatch} addressed by {@link Cf}, turning native failures into
 * {@link StorageException}. The thread filling the batch only.
 */
final class RocksBatchWriter implements BatchWriter {
  private final RocksDatabase rdb;
  private final WriteBatch batch = new WriteBatch();

  RocksBatchWriter(RocksDatabase rdb) {
    this.rdb = rdb;
  }

  @Override
  public void put(Cf cf, byte[] key, byte[] value) {
    try {
      batch.put(rdb.handle(cf), key, value);
    } catch (RocksDBException e) {
      throw new StorageException("batch put failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void delete(Cf cf, byte[] key) {
    try {
      batch.delete(rdb.handle(cf), key);
    } catch (RocksDBException e) {
      throw new StorageException("batch delete failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void deleteRange(Cf cf, byte[] from, byte[] to) {
    try {
      batch.deleteRange(rdb.handle(cf), from, to);
    } catch (RocksDBException e) {
      throw new StorageException("batch range delete failed: " + e.getMessage(), e);
    }
  }

  int count() {
    return batch.count();
  }

  long dataSize() {
    return batch.getDataSize();
  }

  WriteBatch writeBatch() {
    return batch;
  }

  @Override
  public void close() {
    batch.close();
  }
}
