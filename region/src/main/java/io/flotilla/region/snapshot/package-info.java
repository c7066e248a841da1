/**
 * Region snapshots: SST files built from a storage snapshot ({@code storage.KvSnapshot}), streamed
 * and ingested. The file format is RocksDB's; writing and ingesting it is {@code storage.SstFiles}.
 */
package io.flotilla.region.snapshot;
