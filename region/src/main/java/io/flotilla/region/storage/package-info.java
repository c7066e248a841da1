/**
 * One RocksDB per node: every Raft group's log, hard state and apply state, the regions' data and
 * local state, written with group commit.
 *
 * <ul>
 *   <li>{@link io.flotilla.region.storage.NodeStorage} opens the directory, recovers every group and
 *       writes {@link io.flotilla.region.storage.StorageBatch}es: one RocksDB write and one fsync for
 *       all groups of a driver round.
 *   <li>{@link io.flotilla.region.storage.RocksRaftStorage} is one group's
 *       {@link io.flotilla.engine.raft.Storage}, with an entry cache for the tail of its log.
 *   <li>{@link io.flotilla.region.storage.Keys} and {@link io.flotilla.region.storage.Codec} define
 *       the key layout and the value encodings.
 *   <li>{@link io.flotilla.region.storage.KvReader} ({@link io.flotilla.region.storage.NodeStorage#reader()})
 *       and its {@link io.flotilla.region.storage.KvSnapshot} are how the layers above read;
 *       {@link io.flotilla.region.storage.MemoryKv} is their in-memory twin for tests, written by
 *       the same {@link io.flotilla.region.storage.StorageBatch} (raw writes only: it has no Raft
 *       log).
 *   <li>{@link io.flotilla.region.storage.SstFiles} writes and ingests the SST files of region
 *       snapshots.
 * </ul>
 *
 * <p>The rule: RocksDB ({@code org.rocksdb}) is named only in this package; the region layer and PD
 * read through the view and write through batches ({@code StorageViewRuleTest} keeps it so for the
 * region module).
 */
package io.flotilla.region.storage;
