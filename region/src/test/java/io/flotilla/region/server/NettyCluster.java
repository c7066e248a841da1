package io.flotilla.region.server;

import io.flotilla.engine.raft.StateType;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.LogStateMachine;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.storage.StorageConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link RaftNode}s in one JVM over real Netty on 127.0.0.1 (port 0, resolved from a map filled
 * after binding) and real RocksDB (fsync on) in a temp dir, every node's bus wrapped in a
 * {@link FaultyBus}. Every node hosts a replica (peer id = node id) of every group, with a
 * {@link LogStateMachine}.
 */
final class NettyCluster implements AutoCloseable {
  final Path dir;
  final DriverConfig driverConfig;
  final TransportConfig transportConfig;
  final NetworkFaults faults = new NetworkFaults();
  final List<Long> nodeIds = new ArrayList<>();
  final Map<Long, InetSocketAddress> addresses = new ConcurrentHashMap<>();
  final Map<Long, RaftNode> nodes = new ConcurrentHashMap<>();
  final Map<Long, LogStateMachine> machines = new ConcurrentHashMap<>();

  NettyCluster(Path dir, int nodeCount, DriverConfig driverConfig, TransportConfig transportConfig) {
    this.dir = dir;
    this.driverConfig = driverConfig;
    this.transportConfig = transportConfig;
    try {
      for (long id = 1; id <= nodeCount; id++) {
        nodeIds.add(id);
        RaftNode node = RaftNode.start(id, new InetSocketAddress("127.0.0.1", 0), addresses::get,
            StorageConfig.defaults(dir.resolve("node-" + id)), transportConfig, driverConfig,
            GroupRouting.IDENTITY, faults.decorator(id));
        nodes.put(id, node);
        addresses.put(id, new InetSocketAddress("127.0.0.1", node.port()));
        machines.put(id, new LogStateMachine(node.storage()));
      }
      for (RaftNode node : nodes.values()) {
        node.connect(nodeIds);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Starts groups 1..count on every node, each with every node as a voter. */
  void startGroups(int count) {
    for (long g = 1; g <= count; g++) {
      for (RaftNode node : nodes.values()) {
        node.driver().startGroup(g, node.nodeId(), nodeIds, machines.get(node.nodeId()));
      }
    }
  }

  RaftDriver driver(long node) {
    return nodes.get(node).driver();
  }

  /** The running node whose replica leads the group in the highest term, or 0. */
  long leaderOf(long group) {
    long best = 0;
    long bestTerm = -1;
    for (RaftNode node : nodes.values()) {
      RaftDriver.GroupInfo info = node.driver().info(group);
      if (info != null && info.role() == StateType.LEADER && info.term() > bestTerm) {
        best = node.nodeId();
        bestTerm = info.term();
      }
    }
    return best;
  }

  /** A random running node whose replica believes it leads the group (maybe deposed), or 0. */
  long anyLeaderOf(long group, SplittableRandom rnd) {
    List<Long> leaders = new ArrayList<>(1);
    for (RaftNode node : nodes.values()) {
      RaftDriver.GroupInfo info = node.driver().info(group);
      if (info != null && info.role() == StateType.LEADER) {
        leaders.add(node.nodeId());
      }
    }
    return leaders.isEmpty() ? 0 : leaders.get(rnd.nextInt(leaders.size()));
  }

  int groupsWithLeader(int groups) {
    int n = 0;
    for (long g = 1; g <= groups; g++) {
      if (leaderOf(g) != 0) {
        n++;
      }
    }
    return n;
  }

  /** Commands a node's replica of a group applied, in index order. */
  List<String> applied(long node, long group) {
    List<String> out = new ArrayList<>();
    for (byte[] v : machines.get(node).applied(group)) {
      out.add(new String(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  /** The describe() lines of a group on every running node, for failure messages. */
  String describe(long group) {
    StringBuilder sb = new StringBuilder();
    for (RaftNode node : nodes.values()) {
      sb.append("\n  ").append(node.driver().describe(group));
    }
    return sb.toString();
  }

  /** Closes one node: its driver, transport and storage. */
  void stop(long node) {
    RaftNode n = nodes.remove(node);
    machines.remove(node);
    if (n != null) {
      n.close();
    }
  }

  @Override
  public void close() {
    for (long node : new ArrayList<>(nodes.keySet())) {
      stop(node);
    }
  }
}
