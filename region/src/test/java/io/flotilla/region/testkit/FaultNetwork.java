package io.flotilla.region.testkit;

/**
 * The faults a cluster test injects between nodes, whatever carries the messages: {@link
 * InProcessNetwork} (drivers in one JVM) or {@link NettyNetwork} (the real transport). A scenario
 * written against this interface runs over both.
 *
 * <p>Faults apply to what a node sends after the call. A cut link loses every Raft message in both
 * directions, fails snapshots, and silences node liveness (a node is not heard from across a cut, so
 * hibernated groups behind it wake as they would if it were gone). Loss applies to Raft messages
 * only, never to snapshots. Which messages are lost depends on thread timing: a seed replays a
 * test's fault schedule, not its exact losses.
 *
 * <p>Threads: any; every method is thread-safe.
 */
public interface FaultNetwork {
  /** Cuts the link between nodes {@code a} and {@code b}, both directions, until {@link #heal}. */
  void cut(long a, long b);

  /** Cuts every link between {@code node} and the other nodes of the network. */
  void isolate(long node);

  /** Each Raft message is lost with this probability, in [0, 1], until {@link #heal}. */
  void dropRate(double rate);

  /** Ends every cut and all loss. */
  void heal();

  /** Raft messages lost to cuts or loss so far. */
  long dropped();
}
