package io.flotilla.region.testkit;

import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** {@link RaftDriver}s in one JVM on an {@link InProcessNetwork}, each on its own RocksDB (fsync off). */
public final class InProcessCluster extends AbstractRaftCluster {
  private final InProcessNetwork network = new InProcessNetwork();
  private final Map<Long, RaftDriver> drivers = new ConcurrentHashMap<>();
  private final Map<Long, NodeStorage> storages = new ConcurrentHashMap<>();

  public InProcessCluster(Path dir, int nodeCount, DriverConfig driverConfig) {
    super(dir, nodeCount, driverConfig);
    startAll();
  }

  @Override
  public InProcessNetwork network() {
    return network;
  }

  @Override
  protected RaftDriver open(long node) {
    RaftDriver.SnapshotHook hook = new RaftDriver.SnapshotHook();
    NodeStorage storage = NodeStorage.open(StorageConfig.defaults(dataDir(node)).withFsync(false), hook);
    RaftDriver d = new RaftDriver(node, driverConfig, storage, network.endpoint(node), GroupRouting.IDENTITY, hook);
    storages.put(node, storage);
    drivers.put(node, d);
    network.register(d);
    d.start();
    return d;
  }

  @Override
  protected NodeStorage storage(long node) {
    return storages.get(node);
  }

  @Override
  protected void shut(long node) {
    network.unregister(node);
    RaftDriver d = drivers.remove(node);
    if (d != null) {
      d.close();
    }
    NodeStorage s = storages.remove(node);
    if (s != null) {
      s.close();
    }
  }
}
