package io.flotilla.region.testkit;

import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import java.nio.file.Path;

/** The {@link ClusterScenarios} over whole {@code RaftNode}s on real Netty and RocksDB with fsync on. */
class NettyClusterTest extends ClusterScenarios {
  @Override
  protected DriverConfig driverConfig() {
    // 50 ms ticks: election timeout 500 ms (10 ticks), heartbeats every 100 ms.
    return DriverConfig.defaults().withTickIntervalMs(50).withPollerThreads(1).withNodeDeadAfterMs(1_000)
        .withProposalTimeoutMs(5_000);
  }

  @Override
  protected int groups() {
    return 1000;
  }

  @Override
  protected RaftCluster newCluster(Path dir, DriverConfig config) {
    TransportConfig transport = TransportConfig.defaults().withIoThreads(1).withHeartbeatIntervalMs(200)
        .withReconnectBackoffMs(50, 500);
    return new NettyCluster(dir, 3, config, transport);
  }
}
