package io.flotilla.region.testkit;

import io.flotilla.engine.transport.NodeResolver;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.server.RaftNode;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * {@link RaftNode}s in one JVM over real Netty on 127.0.0.1 (port 0) and real RocksDB (fsync on),
 * every node's outbound bus wrapped by a {@link NettyNetwork}. A restarted node listens on a new
 * port; the others learn it from the shared address map, told at once through {@link
 * NodeResolver#subscribe}.
 */
public final class NettyCluster extends AbstractRaftCluster {
  private final TransportConfig transportConfig;
  private final NettyNetwork network = new NettyNetwork();
  private final Map<Long, InetSocketAddress> addresses = new ConcurrentHashMap<>();
  /** Each running node's transport's "address changed" callback. */
  private final Map<Long, LongConsumer> addressListeners = new ConcurrentHashMap<>();
  private final Map<Long, RaftNode> nodes = new ConcurrentHashMap<>();
  private volatile boolean started;

  public NettyCluster(Path dir, int nodeCount, DriverConfig driverConfig, TransportConfig transportConfig) {
    super(dir, nodeCount, driverConfig);
    this.transportConfig = transportConfig;
    startAll();
    started = true;
    for (RaftNode node : nodes.values()) {
      node.connect(nodeIds());
    }
  }

  @Override
  public NettyNetwork network() {
    return network;
  }

  @Override
  protected RaftDriver open(long id) {
    NodeResolver resolver = new NodeResolver() {
      @Override
      public InetSocketAddress resolve(long nodeId) {
        return addresses.get(nodeId);
      }

      @Override
      public void subscribe(LongConsumer addressChanged) {
        addressListeners.put(id, addressChanged);
      }
    };
    RaftNode node = RaftNode.start(id, new InetSocketAddress("127.0.0.1", 0), resolver,
        StorageConfig.defaults(dataDir(id)), transportConfig, driverConfig, GroupRouting.IDENTITY,
        network.decorator(id));
    nodes.put(id, node);
    addresses.put(id, new InetSocketAddress("127.0.0.1", node.port()));
    if (started) {
      node.connect(nodeIds());
      addressListeners.forEach((other, listener) -> {
        if (other != id) {
          listener.accept(id);
        }
      });
    }
    return node.driver();
  }

  @Override
  protected NodeStorage storage(long id) {
    return nodes.get(id).storage();
  }

  @Override
  protected void shut(long id) {
    RaftNode node = nodes.remove(id);
    if (node != null) {
      addressListeners.remove(id);
      node.close();
    }
  }
}
