package io.flotilla.bench.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** All nodes of a run in this JVM, connected over loopback; the load generator calls their drivers. */
final class EmbeddedCluster implements BenchCluster {
  private final RaftBenchSettings settings;
  private final BenchNodes nodes;

  EmbeddedCluster(RaftBenchSettings settings, Path dataDir) {
    this.settings = settings;
    this.nodes = BenchNodes.start(settings, settings.nodeIds(), dataDir);
    nodes.connect(nodes.addresses());
  }

  @Override
  public int jvms() {
    return 1;
  }

  @Override
  public void startGroups() {
    for (long first = 1; first <= settings.groups(); first += WAVE) {
      long last = Math.min(settings.groups(), first + WAVE - 1);
      nodes.startGroups(first, last);
      nodes.campaign(first, last);
      nodes.awaitLeaders(first, last, WAVE_TIMEOUT);
    }
  }

  @Override
  public List<Workload.Result> throughput(Interval.Sink sink) {
    LeaderRouter router = LeaderRouter.allGroups(nodes, settings.groups());
    return List.of(Workload.throughput(nodes, router, settings, settings.concurrency(), sink));
  }

  @Override
  public long awaitHibernation(Duration timeout) {
    return Workload.awaitHibernation(nodes, timeout);
  }

  @Override
  public long replicas() {
    return nodes.replicas();
  }

  @Override
  public List<Workload.Result> idle(Interval.Sink sink) {
    return List.of(Workload.idle(nodes, settings, sink));
  }

  @Override
  public List<WakeAll.Result> wakeAll() {
    LeaderRouter router = LeaderRouter.allGroups(nodes, settings.groups());
    return List.of(WakeAll.run(nodes, router, settings.payloadBytes(), settings.concurrency(),
        BenchCluster.wakeTimeout(settings.groups())));
  }

  @Override
  public void close() {
    nodes.close();
  }
}
