package io.flotilla.region.server;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.flotilla.engine.raft.StateType;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.peer.KvStateMachine;
import io.flotilla.region.peer.RegionHost;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.peer.RegionRecords;
import io.flotilla.region.snapshot.RegionSnapshots;
import io.flotilla.region.snapshot.SnapshotData;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store: the node process that hosts region replicas and serves their KV requests. It wraps a
 * {@link RaftNode} (one RocksDB, one transport carrying Raft and KV RPC on one port, one driver)
 * and runs every region's group with the {@link KvStateMachine}.
 *
 * <p>Start-up ({@link #start}): read the store id from the data dir, or allocate it from PD and
 * persist it; start the node; finish snapshot applies a crash interrupted; load every region
 * record and start its group; register the KV handlers; then, in the background, register with
 * PD ({@code putStore}), bootstrap the cluster if it is not ({@link StoreBootstrap}), and run
 * heartbeats and split checks ({@link StoreTasks}). Nothing in the background stops the store
 * from serving while PD is unreachable.
 *
 * <p>Replicas: region id = Raft group id; peer ids are global (PD's allocator), so routing maps a
 * peer id to a store by the region's peers, or by the node a message from that peer came from. A
 * Raft message (vote, append, heartbeat or snapshot) for a region this store does not hold creates
 * an uninitialized replica: an empty group with no members and no range, which can vote and
 * accept a snapshot but serves no request; the snapshot brings its range and data. A snapshot for
 * an uninitialized replica whose range overlaps a region this store holds is dropped (the parent
 * has not applied the split yet; the leader retries later), so a late split cannot overwrite it.
 *
 * <p>Threads: {@link #start} and {@link #close} from one owner; the rest from any thread.
 */
public final class Store implements RegionHost, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Store.class);

  private final StoreConfig config;
  private final PdClient pd;
  private final long storeId;
  private final PdNodeResolver resolver;
  private final Map<Long, RegionPeer> peers = new ConcurrentHashMap<>();
  /** Peer id to store id, learned from incoming messages (for peers not in a region's meta yet). */
  private final Map<Long, Long> learnedPeers = new ConcurrentHashMap<>();
  private final Set<Long> creating = new HashSet<>();
  private final Object regionLock = new Object();
  private final ExecutorService readPool;
  private final ScheduledExecutorService timers;
  private RaftNode node;
  private KvStateMachine sm;
  private String address;
  private volatile boolean closed;

  private Store(StoreConfig config, PdClient pd, long storeId) {
    this.config = config;
    this.pd = pd;
    this.storeId = storeId;
    this.resolver = new PdNodeResolver(pd);
    this.readPool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors() / 2),
        daemon("flotilla-store-" + storeId + "-read"));
    this.timers = Executors.newScheduledThreadPool(2, daemon("flotilla-store-" + storeId + "-tasks"));
  }

  /** Starts a store on {@code config.dataDir()}; blocks only to get a store id from PD on first start. */
  public static Store start(StoreConfig config, PdClient pd) {
    config.validate();
    long id = StoreIdent.read(config.dataDir());
    if (id == 0) {
      id = StoreBootstrap.allocStoreId(pd, config);
      StoreIdent.write(config.dataDir(), id);
      LOG.info("store id {} allocated by PD for {}", id, config.dataDir());
    }
    Store store = new Store(config, pd, id);
    try {
      store.open();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  private void open() {
    node = RaftNode.start(storeId, config.listen(), resolver, config.storageConfig(), config.transportConfig(),
        config.driver(), routing());
    address = config.advertiseAddress().isEmpty()
        ? config.listen().getHostString() + ":" + node.port()
        : config.advertiseAddress();
    resolver.put(storeId, new InetSocketAddress(config.listen().getHostString(), node.port()));
    RegionSnapshots snapshots = new RegionSnapshots(node.storage(), config.dataDir().resolve("snap"));
    snapshots.recover();
    sm = new KvStateMachine(this, node.storage(), snapshots);
    int started = 0;
    for (RegionRecords.Loaded r : RegionRecords.loadAll(node.storage())) {
      RegionPeer p = new RegionPeer(r.regionId(), r.peerId(), r.state(), r.region(), r.dedup());
      peers.put(r.regionId(), p);
      if (r.state() == RegionPeer.State.NORMAL) {
        node.driver().startGroup(r.regionId(), r.peerId(), List.of(), sm);
        started++;
      }
    }
    node.setInboundFilter(this::onInbound);
    new KvService(this, config, readPool).register(node.transport());
    LOG.info("store {} serving on {} [data={} regions={}]", storeId, address, config.dataDir(), started);
    StoreBootstrap boot = new StoreBootstrap(this, pd, config, timers);
    boot.start();
    new StoreTasks(this, pd, config, timers).start();
  }

  // ------------------------------------------------------------------ routing and replicas

  private GroupRouting routing() {
    return (groupId, peerId) -> {
      RegionPeer p = peers.get(groupId);
      if (p != null) {
        io.flotilla.engine.proto.Peer peer = p.peer(peerId);
        if (peer != null) {
          return peer.getStoreId();
        }
      }
      Long learned = learnedPeers.get(peerId);
      return learned == null ? 0 : learned;
    };
  }

  /** Transport threads: learns where peers live, creates replicas for unknown regions. */
  private boolean onInbound(long fromNode, long groupId, Message m) {
    if (fromNode != 0 && m.from() != 0) {
      learnedPeers.putIfAbsent(m.from(), fromNode);
    }
    RegionPeer p = peers.get(groupId);
    if (p != null) {
      if (p.state() == RegionPeer.State.TOMBSTONE) {
        return false;
      }
      if (m.type() == MessageType.SNAPSHOT && !p.initialized() && m.snapshot() != null) {
        return !overlapsOtherRegion(groupId, m.snapshot().data());
      }
      return true;
    }
    boolean creates = m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE
        || m.type() == MessageType.APP || m.type() == MessageType.HEARTBEAT;
    if (!creates || m.to() == 0) {
      return false;
    }
    return createUninitialized(groupId, m.to());
  }

  private boolean overlapsOtherRegion(long groupId, byte[] snapshot) {
    Region incoming = SnapshotData.peekRegion(snapshot);
    if (incoming == null) {
      return false;
    }
    for (RegionPeer other : peers.values()) {
      Region r = other.region();
      if (other.regionId() != groupId && r != null && KeyRange.overlaps(r, incoming)) {
        LOG.info("[region={}] dropping snapshot for uninitialized replica: it overlaps region {} here, which has"
            + " not applied its split yet", groupId, other.regionId());
        return true;
      }
    }
    return false;
  }

  private boolean createUninitialized(long regionId, long peerId) {
    synchronized (regionLock) {
      if (peers.containsKey(regionId) || creating.contains(regionId) || closed) {
        return peers.containsKey(regionId);
      }
      creating.add(regionId);
    }
    try {
      NodeStorage s = node.storage();
      try (StorageBatch b = s.newBatch()) {
        b.put(Cf.META, RegionRecords.regionKey(regionId), RegionRecords.encodeRegion(RegionPeer.State.NORMAL, peerId,
            null));
        s.write(b);
      }
      RegionPeer p = new RegionPeer(regionId, peerId, RegionPeer.State.NORMAL, null, Map.of());
      peers.put(regionId, p);
      node.driver().startGroup(regionId, peerId, List.of(), sm);
      LOG.info("{} created uninitialized on store {}: it waits for the leader's snapshot", p, storeId);
      return true;
    } catch (RuntimeException e) {
      LOG.warn("[region={}] cannot create a replica for peer {} on store {}: {}", regionId, peerId, storeId,
          e.toString());
      return false;
    } finally {
      synchronized (regionLock) {
        creating.remove(regionId);
      }
    }
  }

  /** Registers and starts a region created here (bootstrap); its records are already durable. */
  void addInitializedRegion(RegionPeer p) {
    peers.put(p.regionId(), p);
    node.driver().startGroup(p.regionId(), p.peerId(), List.of(), sm);
  }

  void removeRegion(long regionId) {
    peers.remove(regionId);
  }

  @Override
  public long storeId() {
    return storeId;
  }

  @Override
  public RegionPeer peer(long regionId) {
    return peers.get(regionId);
  }

  @Override
  public List<Region> currentRegions(RegionPeer peer) {
    List<Region> out = new ArrayList<>();
    if (peer.region() != null) {
      out.add(peer.region());
    }
    for (long child : peer.splitChildren()) {
      RegionPeer c = peers.get(child);
      if (c != null && c.region() != null) {
        out.add(c.region());
      }
    }
    return out;
  }

  @Override
  public boolean reserveSplitChild(long regionId) {
    synchronized (regionLock) {
      if (peers.containsKey(regionId) || creating.contains(regionId) || node.storage().hasGroup(regionId)) {
        return false;
      }
      creating.add(regionId);
      return true;
    }
  }

  @Override
  public boolean isLeader(long regionId) {
    RaftDriver.GroupInfo info = node.driver().info(regionId);
    return info != null && info.role() == StateType.LEADER;
  }

  @Override
  public void onSplitWritten(RegionPeer parent, RegionPeer child, boolean campaign) {
    try {
      peers.put(child.regionId(), child);
      node.driver().startGroup(child.regionId(), child.peerId(), List.of(), sm);
      if (campaign) {
        node.driver().campaign(child.regionId());
      }
    } catch (RuntimeException e) {
      LOG.error("{} cannot start the group of region {} split off it: {}", parent, child.regionId(), e.toString(), e);
    } finally {
      synchronized (regionLock) {
        creating.remove(child.regionId());
      }
    }
  }

  // ------------------------------------------------------------------ accessors

  /** host:port registered with PD. */
  public String address() {
    return address;
  }

  public int port() {
    return node.port();
  }

  public RaftNode node() {
    return node;
  }

  public RaftDriver driver() {
    return node.driver();
  }

  NodeStorage storage() {
    return node.storage();
  }

  /** The initialized regions this store holds, by id. */
  public List<Region> regions() {
    List<Region> out = new ArrayList<>();
    for (RegionPeer p : peers.values()) {
      if (p.region() != null && p.state() == RegionPeer.State.NORMAL) {
        out.add(p.region());
      }
    }
    out.sort((a, b) -> Long.compare(a.getId(), b.getId()));
    return out;
  }

  /** The replicas this store holds (initialized or not). */
  public List<RegionPeer> peers() {
    return new ArrayList<>(peers.values());
  }

  boolean isClosed() {
    return closed;
  }

  StoreConfig config() {
    return config;
  }

  /** Stops background tasks, the driver, the transport and the storage; the PdClient stays open (the caller's). */
  @Override
  public void close() {
    closed = true;
    timers.shutdownNow();
    if (node != null) {
      node.close();
    }
    readPool.shutdownNow();
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
