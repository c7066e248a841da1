package io.flotilla.region.driver;

import io.flotilla.engine.raft.StateType;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** N drivers in one JVM on an {@link InProcessBus}, each with its own RocksDB in a temp dir. */
final class DriverCluster implements AutoCloseable {
  final InProcessBus bus;
  final Path dir;
  final DriverConfig config;
  final Map<Long, RaftDriver> drivers = new TreeMap<>();
  final Map<Long, NodeStorage> storages = new TreeMap<>();
  final Map<Long, LogStateMachine> machines = new TreeMap<>();
  final List<Long> nodeIds = new ArrayList<>();

  DriverCluster(Path dir, int nodes, DriverConfig config, long seed) {
    this.dir = dir;
    this.config = config;
    this.bus = new InProcessBus(seed);
    for (long id = 1; id <= nodes; id++) {
      nodeIds.add(id);
      start(id);
    }
  }

  void start(long node) {
    RaftDriver.SnapshotHook hook = new RaftDriver.SnapshotHook();
    NodeStorage storage = NodeStorage.open(
        StorageConfig.defaults(dir.resolve("node-" + node)).withFsync(false), hook);
    RaftDriver d = new RaftDriver(node, config, storage, bus.endpoint(node), GroupRouting.IDENTITY, hook);
    storages.put(node, storage);
    machines.put(node, new LogStateMachine(storage));
    drivers.put(node, d);
    bus.register(d);
    for (long g : storage.groupIds()) {
      d.startGroup(g, node, List.of(), machines.get(node));
    }
    d.start();
  }

  /** Stops a node abruptly (its driver and storage), as far as the others can tell. */
  void stop(long node) {
    bus.unregister(node);
    RaftDriver d = drivers.remove(node);
    if (d != null) {
      d.close();
    }
    NodeStorage s = storages.remove(node);
    if (s != null) {
      s.close();
    }
  }

  void startGroups(int groups) {
    for (long g = 1; g <= groups; g++) {
      for (long node : drivers.keySet()) {
        drivers.get(node).startGroup(g, node, nodeIds, machines.get(node));
      }
    }
  }

  /** The node whose replica of the group leads in the highest term, or 0. */
  long leaderOf(long group) {
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
  public void close() {
    for (long node : new ArrayList<>(drivers.keySet())) {
      stop(node);
    }
  }
}
