package io.flotilla.region.testkit;

import io.flotilla.engine.raft.StateType;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.LogStateMachine;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.storage.NodeStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;

/** What both clusters share: which nodes run, and every query, over the running drivers. */
abstract class AbstractRaftCluster implements RaftCluster {
  protected final Path dir;
  protected final DriverConfig driverConfig;
  private final List<Long> ids = new ArrayList<>();
  private final Map<Long, RaftDriver> drivers = new ConcurrentSkipListMap<>();
  private final Map<Long, LogStateMachine> machines = new ConcurrentSkipListMap<>();

  AbstractRaftCluster(Path dir, int nodeCount, DriverConfig driverConfig) {
    this.dir = dir;
    this.driverConfig = driverConfig;
    for (long id = 1; id <= nodeCount; id++) {
      ids.add(id);
    }
  }

  /**
   * Opens node {@code node}'s storage in {@link #dataDir} and starts it; returns its running
   * driver. Called for a first start and for a restart.
   */
  protected abstract RaftDriver open(long node);

  /** Closes a running node's driver, transport and storage. */
  protected abstract void shut(long node);

  protected abstract NodeStorage storage(long node);

  protected final Path dataDir(long node) {
    return dir.resolve("node-" + node);
  }

  /** Starts every node; closes what started if one fails. */
  protected final void startAll() {
    try {
      for (long id : ids) {
        startNode(id);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void startNode(long node) {
    RaftDriver d = open(node);
    LogStateMachine m = new LogStateMachine(storage(node));
    machines.put(node, m);
    drivers.put(node, d);
    for (long g : storage(node).groupIds()) {
      d.startGroup(g, node, List.of(), m);
    }
  }

  @Override
  public final List<Long> nodeIds() {
    return List.copyOf(ids);
  }

  @Override
  public final DriverConfig driverConfig() {
    return driverConfig;
  }

  @Override
  public final void startGroups(int count) {
    for (long g = 1; g <= count; g++) {
      for (Map.Entry<Long, RaftDriver> e : drivers.entrySet()) {
        e.getValue().startGroup(g, e.getKey(), ids, machines.get(e.getKey()));
      }
    }
  }

  @Override
  public final boolean isRunning(long node) {
    return drivers.containsKey(node);
  }

  @Override
  public final RaftDriver driver(long node) {
    RaftDriver d = drivers.get(node);
    if (d == null) {
      throw new IllegalStateException("node " + node + " is not running (running: " + drivers.keySet() + ")");
    }
    return d;
  }

  @Override
  public final LogStateMachine machine(long node) {
    LogStateMachine m = machines.get(node);
    if (m == null) {
      throw new IllegalStateException("node " + node + " is not running (running: " + machines.keySet() + ")");
    }
    return m;
  }

  @Override
  public final long leaderOf(long group) {
    long best = 0;
    long bestTerm = -1;
    for (RaftDriver d : drivers.values()) {
      RaftDriver.GroupInfo info = d.info(group);
      if (info != null && info.role() == StateType.LEADER && info.term() > bestTerm) {
        best = d.nodeId();
        bestTerm = info.term();
      }
    }
    return best;
  }

  @Override
  public final long anyLeaderOf(long group, SplittableRandom rnd) {
    List<Long> leaders = new ArrayList<>(1);
    for (RaftDriver d : drivers.values()) {
      RaftDriver.GroupInfo info = d.info(group);
      if (info != null && info.role() == StateType.LEADER) {
        leaders.add(d.nodeId());
      }
    }
    return leaders.isEmpty() ? 0 : leaders.get(rnd.nextInt(leaders.size()));
  }

  @Override
  public final int groupsWithLeader(int groups) {
    int n = 0;
    for (long g = 1; g <= groups; g++) {
      if (leaderOf(g) != 0) {
        n++;
      }
    }
    return n;
  }

  @Override
  public final CompletableFuture<Object> propose(long group, String command) {
    long leader = leaderOf(group);
    if (leader == 0) {
      return CompletableFuture.failedFuture(new IllegalStateException("group " + group + " has no leader"));
    }
    return driver(leader).propose(group, command.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public final List<String> applied(long node, long group) {
    List<String> out = new ArrayList<>();
    for (byte[] v : machine(node).applied(group)) {
      out.add(new String(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  @Override
  public final String describe(long group) {
    StringBuilder sb = new StringBuilder();
    for (RaftDriver d : drivers.values()) {
      sb.append("\n  ").append(d.describe(group));
    }
    return sb.toString();
  }

  @Override
  public final void kill(long node) {
    if (drivers.remove(node) != null) {
      machines.remove(node);
      shut(node);
    }
  }

  @Override
  public final void restart(long node) {
    if (!ids.contains(node) || isRunning(node)) {
      throw new IllegalStateException("node " + node + " is not a stopped node of " + ids);
    }
    startNode(node);
  }

  @Override
  public final void close() {
    for (long node : new ArrayList<>(drivers.keySet())) {
      kill(node);
    }
  }
}
