package io.flotilla.pd.server;

import io.flotilla.engine.Threads;
import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.raft.StateType;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.pd.meta.MetaState;
import io.flotilla.pd.meta.PdStateMachine;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.server.RaftNode;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of the placement driver: a {@link RaftNode} (its own RocksDB and transport) running
 * PD's Raft group ({@link PdStateMachine#GROUP_ID}) over its members, node id = peer id = member
 * id, and serving every RPC of {@code pd.proto} on the same port the members use among themselves.
 *
 * <p>The first time PD's group has a leader, that leader picks the cluster id (random) and
 * replicates it; until then PD answers UNAVAILABLE. The cluster (stores and regions) is bootstrapped
 * later, by the first store ({@code pd.bootstrap}).
 *
 * <p>Threads: {@link #start} and {@link #close} from one owner; the rest from any thread.
 */
public final class PdServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PdServer.class);

  private final PdConfig config;
  private final RaftNode node;
  private final PdStateMachine sm;
  private final Map<Long, String> members;
  private final ExecutorService executor;
  private final ScheduledExecutorService maintenance;
  private final SecureRandom random = new SecureRandom();

  private PdServer(PdConfig config, RaftNode node, PdStateMachine sm, Map<Long, String> members) {
    this.config = config;
    this.node = node;
    this.sm = sm;
    this.members = members;
    long id = config.memberId();
    this.executor = Executors.newFixedThreadPool(2, r -> daemon(r, "flotilla-pd-" + id + "-rpc"));
    this.maintenance = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "flotilla-pd-" + id + "-maintenance"));
  }

  /**
   * Validates {@code config}, opens the member's storage, starts its transport and PD's group.
   *
   * @throws IllegalArgumentException naming the bad setting if {@code config} is invalid
   */
  public static PdServer start(PdConfig config) {
    config.validate();
    Map<Long, InetSocketAddress> peers = new HashMap<>();
    config.members().forEach((id, address) -> peers.put(id, HostPort.parse(address, false)));
    InetSocketAddress listen = HostPort.parse(config.listenAddress(), true);
    RaftNode node = RaftNode.start(config.memberId(), listen, peers::get, config.storageConfig(),
        TransportConfig.defaults().withIoThreads(2), config.driverConfig(), GroupRouting.IDENTITY);
    PdServer server = null;
    try {
      Map<Long, String> members = new TreeMap<>(config.members());
      if (members.isEmpty()) {
        members.put(config.memberId(), advertised(listen, node.port()));
      }
      PdStateMachine sm = PdStateMachine.open(node.storage());
      server = new PdServer(config, node, sm, Map.copyOf(members));
      server.startServing();
      return server;
    } catch (RuntimeException e) {
      if (server != null) {
        server.close();
      } else {
        node.close();
      }
      throw e;
    }
  }

  private void startServing() {
    List<Long> memberIds = new ArrayList<>(members.keySet());
    PdService service = new PdService(config.memberId(), node.driver(), sm.state(), config, members, executor);
    node.driver().startGroup(PdStateMachine.GROUP_ID, config.memberId(), memberIds, sm);
    node.connect(memberIds);
    service.register(node.transport());
    maintenance.scheduleWithFixedDelay(() -> {
      try {
        service.maintain(System.currentTimeMillis(), newClusterId());
      } catch (RuntimeException e) {
        LOG.warn("PD maintenance failed [pd member={}]: {}", config.memberId(), e.toString(), e);
      }
    }, config.tickIntervalMs(), config.tickIntervalMs(), TimeUnit.MILLISECONDS);
    LOG.info("PD member {} serving at {} [members={} data={}]", config.memberId(), address(), members,
        config.dataDir());
  }

  /** A random non-zero cluster id, positive so it reads the same signed and unsigned. */
  private long newClusterId() {
    long id;
    do {
      id = random.nextLong() & Long.MAX_VALUE;
    } while (id == 0);
    return id;
  }

  private static String advertised(InetSocketAddress listen, int port) {
    String host = listen.getAddress() != null && listen.getAddress().isAnyLocalAddress()
        ? "127.0.0.1" : listen.getHostString();
    return HostPort.format(InetSocketAddress.createUnresolved(host, port));
  }

  private static Thread daemon(Runnable r, String name) {
    return Threads.daemon(r, name);
  }

  public long memberId() {
    return config.memberId();
  }

  /** Where clients reach this member ({@code host:port}). */
  public String address() {
    return members.get(config.memberId());
  }

  /** Every member's id and address. */
  public Map<Long, String> members() {
    return members;
  }

  /** The bound port. */
  public int port() {
    return node.port();
  }

  /** Whether this member led PD's group as of its last Raft round. */
  public boolean isLeader() {
    RaftDriver.GroupInfo info = node.driver().info(PdStateMachine.GROUP_ID);
    return info != null && info.role() == StateType.LEADER;
  }

  /** The member this one believes leads, or 0. */
  public long leaderId() {
    RaftDriver.GroupInfo info = node.driver().info(PdStateMachine.GROUP_ID);
    return info == null ? 0 : info.leaderPeer();
  }

  /** Asks PD's group to hand leadership to member {@code toMember}; a no-op unless this member leads. */
  public void transferLeader(long toMember) {
    node.driver().transferLeader(PdStateMachine.GROUP_ID, toMember);
  }

  /** The cluster id as applied on this member (0 until chosen). */
  public long clusterId() {
    return sm.state().clusterId();
  }

  /** The metadata as applied on this member (not linearizable; for tests and tools). */
  public MetaState meta() {
    return sm.state();
  }

  @Override
  public void close() {
    maintenance.shutdownNow();
    node.close();
    executor.shutdownNow();
    LOG.info("PD member {} stopped", config.memberId());
  }
}
