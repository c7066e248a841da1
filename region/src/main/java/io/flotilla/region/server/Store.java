package io.flotilla.region.server;

import io.flotilla.engine.Threads;
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
 * peer id to a store by the region's peers, or by the node a message from that peer came from.
 * The replicas are listed in a read-mostly registry ({@link Replicas}) and owned by the store's
 * control loop ({@link StoreControl}), which alone creates, destroys and tombstones them; this
 * class is the wiring and what the state machine and the services read.
 *
 * <p>Threads: {@link #start} and {@link #close} from one owner; the rest from any thread.
 */
public final class Store implements RegionHost, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Store.class);

  private final StoreConfig config;
  private final PdClient pd;
  private final long storeId;
  private final PdNodeResolver resolver;
  private final Replicas replicas = new Replicas();
  private final ExecutorService readPool;
  private final ScheduledExecutorService timers;
  private RaftNode node;
  private StoreTasks tasks;
  private StoreControl control;
  private RegionSnapshots snapshots;
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
    snapshots = new RegionSnapshots(node.storage(), config.dataDir().resolve("snap"),
        "flotilla-store-" + storeId + "-snap");
    snapshots.recover();
    node.setSnapshotStreams(snapshots.streams());
    KvStateMachine sm = new KvStateMachine(this, node.storage().reader(), snapshots);
    control = new StoreControl(storeId, node, replicas, sm);
    int started = control.load();
    node.setInboundFilter(control::accept);
    KvService kv = new KvService(this, config, readPool);
    kv.register(node.transport());
    new TxnService(kv, this, config, System::currentTimeMillis).register(node.transport());
    LOG.info("store {} serving on {} [data={} regions={} tombstones={}]", storeId, address, config.dataDir(), started,
        replicas.tombstoneCount());
    StoreBootstrap boot = new StoreBootstrap(this, pd, config, timers);
    boot.start();
    tasks = new StoreTasks(this, pd, config, timers);
    node.driver().setLeaderListener((groupId, term) -> {
      RegionPeer p = replicas.get(groupId);
      if (p != null) {
        tasks.regionHeartbeatSoon(p);
      }
    });
    tasks.start();
  }

  // ------------------------------------------------------------------ routing and replicas

  private GroupRouting routing() {
    return (groupId, peerId) -> {
      RegionPeer p = replicas.get(groupId);
      long store = p == null ? 0 : p.storeOf(peerId);
      return store != 0 ? store : replicas.learnedStore(peerId);
    };
  }

  // ------------------------------------------------------------------ removal and tombstones

  @Override
  public void onMembershipChanged(RegionPeer peer) {
    StoreTasks t = tasks;
    if (t != null && isLeader(peer.regionId())) {
      t.regionHeartbeatSoon(peer);
    }
  }

  @Override
  public void onPeerRemoved(RegionPeer peer) {
    control.removed(peer);
  }

  @Override
  public void onSnapshotRestored(long regionId) {
    control.snapshotRestored(regionId);
  }

  /**
   * Removes a replica found to be no longer a member of its region (see {@link StoreControl#gc}).
   * Any thread; does not block.
   */
  void gcReplica(RegionPeer peer, String why) {
    control.gc(peer, why);
  }

  /** Sends the region's heartbeat now if this store leads it (tests; PD admin later). */
  void regionHeartbeatNow(long regionId) {
    RegionPeer p = replicas.get(regionId);
    StoreTasks t = tasks;
    if (p != null && t != null) {
      t.regionHeartbeatSoon(p);
    }
  }

  /** The peer id this store's replica of {@code regionId} had when it was tombstoned, or 0. */
  public long tombstonedPeer(long regionId) {
    Replicas.Tombstone t = replicas.tombstone(regionId);
    return t == null ? 0 : t.peerId();
  }

  /** The epoch of the region when this store's replica was tombstoned, or null if it is not. */
  public io.flotilla.engine.proto.RegionEpoch tombstonedEpoch(long regionId) {
    Replicas.Tombstone t = replicas.tombstone(regionId);
    return t == null ? null : t.epoch();
  }

  StoreControl control() {
    return control;
  }

  @Override
  public long storeId() {
    return storeId;
  }

  @Override
  public RegionPeer peer(long regionId) {
    return replicas.get(regionId);
  }

  @Override
  public List<Region> currentRegions(RegionPeer peer) {
    List<Region> out = new ArrayList<>();
    if (peer.region() != null) {
      out.add(peer.region());
    }
    for (long child : peer.splitChildren()) {
      RegionPeer c = replicas.get(child);
      if (c != null && c.region() != null) {
        out.add(c.region());
      }
    }
    return out;
  }

  @Override
  public boolean reserveSplitChild(long regionId) {
    if (!replicas.reserve(regionId)) {
      return false;
    }
    if (node.storage().hasGroup(regionId)) {
      replicas.release(regionId);
      return false;
    }
    return true;
  }

  @Override
  public boolean isLeader(long regionId) {
    RaftDriver.GroupInfo info = node.driver().info(regionId);
    return info != null && info.role() == StateType.LEADER;
  }

  @Override
  public void onSplitWritten(RegionPeer parent, RegionPeer child, boolean campaign) {
    control.startSplitChild(child, campaign);
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

  /** This store's region snapshots (builds, streams). */
  RegionSnapshots snapshots() {
    return snapshots;
  }

  /** Snapshots being received from other stores now. */
  public int receivingSnapshots() {
    return node.receivingSnapshots();
  }

  /** The initialized regions this store holds, by id. */
  public List<Region> regions() {
    List<Region> out = new ArrayList<>();
    for (RegionPeer p : replicas.all()) {
      if (p.region() != null && p.state() == RegionPeer.State.NORMAL) {
        out.add(p.region());
      }
    }
    out.sort((a, b) -> Long.compare(a.getId(), b.getId()));
    return out;
  }

  /** The replicas this store holds (initialized or not). */
  public List<RegionPeer> peers() {
    return replicas.all();
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
    if (control != null) {
      control.close();
    }
    if (snapshots != null) {
      // NB: before RocksDB closes under a build; a poller asking later is told "unavailable".
      snapshots.close();
    }
    if (node != null) {
      node.close();
    }
    readPool.shutdownNow();
  }

  private static ThreadFactory daemon(String prefix) {
    return Threads.numbered(prefix);
  }
}
