/** Majority and joint quorums: committed index and vote results. */
package io.flotilla.engine.raft.quorum;
