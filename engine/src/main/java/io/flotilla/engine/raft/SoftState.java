package io.flotilla.engine.raft;

/** Volatile state worth reporting: who leads, and this node's role. Never persisted. */
public record SoftState(long lead, StateType raftState) {}
