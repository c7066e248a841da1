/** Region snapshots: SST files built from a RocksDB snapshot, streamed and ingested. */
package io.flotilla.region.snapshot;
