package io.flotilla.region.storage;

/**
 * Where a {@link StorageBatch}'s writes go until it is written: a RocksDB batch
 * ({@link RocksBatchWriter}) or {@link MemoryKv}'s list. Operations apply in call order when the
 * batch is written: a range delete also removes puts made earlier in the same batch. The thread
 * filling the batch only.
 */
interface BatchWriter extends AutoCloseable {
  void put(Cf cf, byte[] key, byte[] value);

  void delete(Cf cf, byte[] key);

  /** Deletes {@code [from, to)}. */
  void deleteRange(Cf cf, byte[] from, byte[] to);

  /** Frees what the writer holds; unwritten operations are dropped. */
  @Override
  void close();
}
