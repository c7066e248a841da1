package io.flotilla.region.testkit;

import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.LogStateMachine;
import io.flotilla.region.driver.RaftDriver;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * A test cluster of nodes in one JVM, each with its own RocksDB in a temp dir ({@code node-<id>}),
 * connected by a {@link FaultNetwork}: {@link InProcessCluster} (drivers on an {@link
 * InProcessNetwork}) or {@link NettyCluster} (whole {@code RaftNode}s over Netty on 127.0.0.1).
 * Every node hosts a replica (peer id = node id) of every group, applying to a {@link
 * LogStateMachine}; commands are strings.
 *
 * <p>Threads: start, stop and close from the test thread; the queries from any thread.
 */
public interface RaftCluster extends AutoCloseable {
  /** Every node of the cluster, running or not, in id order. */
  List<Long> nodeIds();

  DriverConfig driverConfig();

  FaultNetwork network();

  /** Starts groups 1..count on every running node, each with every node as a voter. */
  void startGroups(int count);

  boolean isRunning(long node);

  /** A running node's driver. */
  RaftDriver driver(long node);

  /** A running node's state machine. */
  LogStateMachine machine(long node);

  /** The running node whose replica leads the group in the highest term, or 0. */
  long leaderOf(long group);

  /** A random running node whose replica believes it leads the group (maybe deposed), or 0. */
  long anyLeaderOf(long group, SplittableRandom rnd);

  /** How many of groups 1..groups have a leader. */
  int groupsWithLeader(int groups);

  /** Proposes a command to the group's current leader; fails at once if there is none. */
  CompletableFuture<Object> propose(long group, String command);

  /** Commands a running node's replica of a group applied, in index order. */
  List<String> applied(long node, long group);

  /** The {@code describe()} lines of a group on every running node, for failure messages. */
  String describe(long group);

  /** Stops a node abruptly as far as the others can tell: driver, transport and storage close. */
  void kill(long node);

  /** Starts a killed node again on its data dir, with the groups it has on disk. */
  void restart(long node);

  /** Stops every running node. */
  @Override
  void close();
}
