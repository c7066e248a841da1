package io.flotilla.engine.raft;

/** A Raft invariant broken in a simulation run. The message names the seed that replays it. */
final class SimViolation extends RuntimeException {
  final long seed;

  SimViolation(long seed, String what) {
    super("seed " + seed + ": " + what
        + " (replay: ./mvnw -pl engine test -Dtest=RaftSimulationTest#replaysOneSeed -Dflotilla.seed=" + seed + ")");
    this.seed = seed;
  }
}
