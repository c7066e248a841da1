/** The pure Raft state machine of one group: no threads, clocks, I/O or hidden randomness. */
package io.flotilla.engine.raft;
