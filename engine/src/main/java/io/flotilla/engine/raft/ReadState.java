package io.flotilla.engine.raft;

/**
 * The answer to {@link RawNode#readIndex}: once the state machine has applied {@code index}, a read
 * tagged {@code requestCtx} sees every write committed before it was asked (linearizable).
 */
public record ReadState(long index, byte[] requestCtx) {}
