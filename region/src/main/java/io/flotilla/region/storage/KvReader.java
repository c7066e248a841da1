package io.flotilla.region.storage;

/**
 * How code above {@code region.storage} reads a node's column families: a point get of the latest
 * written state, or a {@link KvSnapshot} for anything that must see one point in time (multi-gets,
 * scans). Writes go through {@link StorageBatch}.
 *
 * <p>Two implementations: {@link NodeStorage#reader()} over the node's RocksDB, and
 * {@link MemoryKv}, its in-memory twin for tests. Keys compare as unsigned bytes; returned arrays
 * belong to the caller. Failures are {@link StorageException}s.
 *
 * <p>Threads: any.
 */
public interface KvReader {
  /** The value of {@code key} in {@code cf}, or null: what the last written batch left. */
  byte[] get(Cf cf, byte[] key);

  /** A consistent view of every family as of now, until {@link KvSnapshot#close()}. */
  KvSnapshot snapshot();
}
