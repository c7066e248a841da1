package io.flotilla.region.testkit;

import io.flotilla.region.driver.DriverConfig;
import java.nio.file.Path;

/** The {@link ClusterScenarios} over drivers in one JVM on an {@link InProcessNetwork}. */
class InProcessClusterTest extends ClusterScenarios {
  @Override
  protected DriverConfig driverConfig() {
    // 20 ms ticks: election timeout 200 ms; a silent node is dead after 300 ms.
    return DriverConfig.defaults().withTickIntervalMs(20).withPollerThreads(2).withNodeDeadAfterMs(300);
  }

  @Override
  protected int groups() {
    return 300;
  }

  @Override
  protected RaftCluster newCluster(Path dir, DriverConfig config) {
    return new InProcessCluster(dir, 3, config);
  }
}
