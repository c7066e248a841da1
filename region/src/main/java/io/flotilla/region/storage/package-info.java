/** One RocksDB per node: Raft log, hard state and apply state, region data, group commit. */
package io.flotilla.region.storage;
