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
 * </ul>
 */
package io.flotilla.region.storage;
