package io.flotilla.engine.raft;

/**
 * The core's only source of randomness (election timeout jitter). Injected, so a seeded source
 * makes a simulation replay exactly. Implementations need not be thread-safe.
 */
@FunctionalInterface
public interface RandomSource {
  /** A uniformly distributed value in {@code [0, bound)}. */
  int nextInt(int bound);
}
