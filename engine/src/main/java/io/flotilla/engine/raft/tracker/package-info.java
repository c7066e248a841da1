/** Per-peer replication progress and the current configuration, as the leader tracks them. */
package io.flotilla.engine.raft.tracker;
