/**
 * {@code flotilla bench raft}: proposals through the Raft path of real nodes (one JVM, or one per
 * node), closed-loop load or idle cost; see {@link io.flotilla.bench.raft.RaftBench} and
 * docs/bench.md.
 */
package io.flotilla.bench.raft;
