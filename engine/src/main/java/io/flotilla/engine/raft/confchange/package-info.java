/** Membership changes: simple changes and joint consensus (enter joint, leave joint). */
package io.flotilla.engine.raft.confchange;
