package io.flotilla.bench.raft;

import io.flotilla.bench.BenchException;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.StateType;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.server.RaftNode;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.storage.StorageConfig;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark nodes this JVM hosts: all of them, or one in a node process. Each is a full
 * {@link RaftNode} (RocksDB, Netty on 127.0.0.1, driver) with default settings except fsync, and a
 * {@link CountingStateMachine}. Every group has a replica on every node; peer id = node id.
 *
 * <p>Threads: set up and closed by one thread; {@link #leaderHere}, {@link #hibernated} and
 * {@link #totals} from any.
 */
final class BenchNodes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BenchNodes.class);
  /** Groups created per storage batch: one fsync for many groups instead of one each. */
  private static final int GROUPS_PER_CREATE_BATCH = 1024;

  private final RaftBenchSettings settings;
  private final List<Long> allIds;
  private final Map<Long, RaftNode> hosted = new TreeMap<>();
  private final Map<Long, CountingStateMachine> machines = new TreeMap<>();
  private final Map<Long, InetSocketAddress> addresses = new ConcurrentHashMap<>();
  /** drivers[nodeId]: the hosted nodes' drivers, null for nodes in other processes (a hot path). */
  private final RaftDriver[] drivers;

  private BenchNodes(RaftBenchSettings settings) {
    this.settings = settings;
    this.allIds = settings.nodeIds();
    this.drivers = new RaftDriver[settings.nodes() + 1];
  }

  /** Starts the given nodes on loopback, port 0, with their data under {@code dataDir}. */
  static BenchNodes start(RaftBenchSettings settings, List<Long> hostedIds, Path dataDir) {
    BenchNodes nodes = new BenchNodes(settings);
    try {
      for (long id : hostedIds) {
        StorageConfig storage = StorageConfig.defaults(dataDir.resolve("node-" + id)).withFsync(settings.fsync());
        RaftNode node = RaftNode.start(id, new InetSocketAddress("127.0.0.1", 0), nodes.addresses::get, storage,
            TransportConfig.defaults(), DriverConfig.defaults(), GroupRouting.IDENTITY);
        nodes.hosted.put(id, node);
        nodes.drivers[(int) id] = node.driver();
        nodes.machines.put(id, new CountingStateMachine());
        nodes.addresses.put(id, new InetSocketAddress("127.0.0.1", node.port()));
      }
    } catch (RuntimeException e) {
      nodes.close();
      throw e;
    }
    return nodes;
  }

  /** Where the hosted nodes listen. */
  Map<Long, InetSocketAddress> addresses() {
    Map<Long, InetSocketAddress> out = new TreeMap<>();
    hosted.keySet().forEach(id -> out.put(id, addresses.get(id)));
    return out;
  }

  /** Learns where the other nodes listen and keeps connections to all of them. */
  void connect(Map<Long, InetSocketAddress> peers) {
    addresses.putAll(peers);
    for (RaftNode n : hosted.values()) {
      n.connect(allIds);
    }
  }

  /**
   * Creates groups {@code first..last} on every hosted node (many per storage write) and starts
   * their replicas.
   */
  void startGroups(long first, long last) {
    ConfState voters = new ConfState(allIds, List.of(), List.of(), List.of(), false);
    for (Map.Entry<Long, RaftNode> e : hosted.entrySet()) {
      NodeStorage storage = e.getValue().storage();
      List<Long> fresh = new ArrayList<>();
      for (long g = first; g <= last; g++) {
        if (!storage.hasGroup(g)) {
          fresh.add(g);
        }
      }
      for (int i = 0; i < fresh.size(); i += GROUPS_PER_CREATE_BATCH) {
        try (StorageBatch batch = storage.newBatch()) {
          for (long g : fresh.subList(i, Math.min(fresh.size(), i + GROUPS_PER_CREATE_BATCH))) {
            batch.createGroup(g, voters);
          }
          storage.write(batch);
        }
      }
      RaftDriver driver = e.getValue().driver();
      for (long g = first; g <= last; g++) {
        driver.startGroup(g, e.getKey(), allIds, machines.get(e.getKey()));
      }
    }
  }

  /**
   * Hosted nodes campaign for the groups {@code first..last} they are designated to lead, so that
   * leaders are spread evenly and elected without waiting for an election timeout.
   */
  void campaign(long first, long last) {
    for (long g = first; g <= last; g++) {
      RaftNode n = hosted.get(settings.designatedLeader(g));
      if (n != null) {
        n.driver().campaign(g);
      }
    }
  }

  /**
   * Waits until every hosted replica of groups {@code first..last} knows a leader (and, in one
   * JVM, every such group has a leader among the hosted nodes).
   *
   * @return how many of those groups a hosted node leads
   * @throws BenchException naming how many groups still lack one after {@code timeout}
   */
  long awaitLeaders(long first, long last, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int missing;
    while ((missing = groupsWithoutLeader(first, last)) > 0) {
      checkHealthy();
      if (System.nanoTime() - deadline > 0) {
        throw new BenchException(missing + " of groups " + first + ".." + last + " have no leader after "
            + timeout.toSeconds() + " s on node(s) " + hosted.keySet() + "; the machine may be overloaded, see the "
            + "node log above");
      }
      sleep(20);
    }
    return LongStream.rangeClosed(first, last).filter(g -> leaderHere(g) != 0).count();
  }

  private int groupsWithoutLeader(long first, long last) {
    boolean allHosted = hosted.size() == allIds.size();
    int missing = 0;
    for (long g = first; g <= last; g++) {
      boolean known = true;
      for (RaftNode n : hosted.values()) {
        RaftDriver.GroupInfo info = n.driver().info(g);
        known &= info != null && info.leaderPeer() != 0;
      }
      if (!known || (allHosted && leaderHere(g) == 0)) {
        missing++;
      }
    }
    return missing;
  }

  /** The hosted node whose replica leads the group in the highest term, or 0 if none does. */
  long leaderHere(long groupId) {
    long best = 0;
    long bestTerm = -1;
    for (RaftNode n : hosted.values()) {
      RaftDriver.GroupInfo info = n.driver().info(groupId);
      if (info != null && info.role() == StateType.LEADER && info.term() > bestTerm) {
        best = n.nodeId();
        bestTerm = info.term();
      }
    }
    return best;
  }

  /** Groups led by a hosted node, ascending. */
  long[] groupsLedHere() {
    return LongStream.rangeClosed(1, settings.groups()).filter(g -> leaderHere(g) != 0).toArray();
  }

  boolean hosts(long nodeId) {
    return nodeId > 0 && nodeId < drivers.length && drivers[(int) nodeId] != null;
  }

  RaftDriver driver(long nodeId) {
    return drivers[(int) nodeId];
  }

  /** Hosted replicas that are hibernating now. */
  long hibernated() {
    long n = 0;
    for (RaftNode node : hosted.values()) {
      n += node.driver().counters().hibernations() - node.driver().counters().wakes();
    }
    return n;
  }

  /** Hosted replicas in all: groups x hosted nodes. */
  long replicas() {
    return (long) settings.groups() * hosted.size();
  }

  /** The hosted nodes' counters, summed, with this JVM's CPU time. */
  Counters totals() {
    Counters t = Counters.cpu(processCpuNanos());
    for (Map.Entry<Long, RaftNode> e : hosted.entrySet()) {
      RaftNode n = e.getValue();
      t = t.plus(new Counters(n.storage().counters().entriesWritten(), n.storage().counters().batchesWritten(),
          n.storage().counters().fsyncs(), n.transport().metrics().raftFramesSent(),
          n.transport().metrics().raftMessagesSent(), n.transport().metrics().droppedQueueFull(),
          machines.get(e.getKey()).applied(), 0, 0, 0, 0));
    }
    return t;
  }

  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    throw new BenchException("this JVM does not report process CPU time"
        + " (com.sun.management.OperatingSystemMXBean); use a HotSpot-based JDK");
  }

  /** Fails with the node's error if a driver stopped on its own (a storage failure). */
  void checkHealthy() {
    for (RaftNode n : hosted.values()) {
      Throwable t = n.driver().failure();
      if (t != null) {
        throw new BenchException("node " + n.nodeId() + " stopped: " + t, t);
      }
    }
  }

  static void sleep(long ms) {
    try {
      TimeUnit.MILLISECONDS.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    }
  }

  @Override
  public void close() {
    for (RaftNode n : hosted.values()) {
      try {
        n.close();
      } catch (RuntimeException e) {
        LOG.warn("closing node {} failed: {}", n.nodeId(), e.toString());
      }
    }
    hosted.clear();
    Arrays.fill(drivers, null);
  }
}
