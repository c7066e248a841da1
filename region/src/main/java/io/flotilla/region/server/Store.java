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
 * <p>Removal and tombstones: a replica removed by a conf change it applies, or found stale (PD
 * lists its region with a newer conf_ver without it, see {@link StoreTasks}; or a message arrives
 * for a newer peer id of its region here), stops serving at once, then its group is destroyed
 * and, in the same batch, the part of its range no other live region here covers is deleted and
 * the region is recorded TOMBSTONE with its peer id. A message for a tombstoned region addressed
 * to that peer id or an older one is dropped; one addressed to a newer peer id (the region was
 * added back here) creates a fresh uninitialized replica. A TOMBSTONE record whose group still
 * exists at start (a crash between the conf change and the cleanup) is cleaned up before serving.
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
  /** Region id to the peer id this store's replica had when it was tombstoned. */
  private final Map<Long, Long> tombstones = new ConcurrentHashMap<>();
  private final Set<Long> creating = new HashSet<>();
  private final Object regionLock = new Object();
  private final ExecutorService readPool;
  private final ScheduledExecutorService timers;
  private RaftNode node;
  private StoreTasks tasks;
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
    List<RegionRecords.Loaded> unfinished = new ArrayList<>();
    for (RegionRecords.Loaded r : RegionRecords.loadAll(node.storage())) {
      if (r.state() == RegionPeer.State.TOMBSTONE) {
        tombstones.put(r.regionId(), r.peerId());
        if (node.storage().hasGroup(r.regionId())) {
          unfinished.add(r);
        }
        continue;
      }
      RegionPeer p = new RegionPeer(r.regionId(), r.peerId(), r.state(), r.region(), r.dedup());
      peers.put(r.regionId(), p);
      node.driver().startGroup(r.regionId(), r.peerId(), List.of(), sm);
      started++;
    }
    for (RegionRecords.Loaded r : unfinished) {
      // Tombstoned by a conf change, but the store stopped before its group and data were deleted.
      try (StorageBatch b = node.storage().newBatch()) {
        b.destroyGroup(r.regionId());
        deleteData(b, r.regionId(), r.region());
        node.storage().write(b);
      }
      LOG.info("[region={} peer={}] finished deleting a replica tombstoned before the restart", r.regionId(),
          r.peerId());
    }
    node.setInboundFilter(this::onInbound);
    new KvService(this, config, readPool).register(node.transport());
    LOG.info("store {} serving on {} [data={} regions={} tombstones={}]", storeId, address, config.dataDir(), started,
        tombstones.size());
    StoreBootstrap boot = new StoreBootstrap(this, pd, config, timers);
    boot.start();
    tasks = new StoreTasks(this, pd, config, timers);
    node.driver().setLeaderListener((groupId, term) -> {
      RegionPeer p = peers.get(groupId);
      if (p != null) {
        tasks.regionHeartbeatSoon(p);
      }
    });
    tasks.start();
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
      if (m.to() != p.peerId()) {
        if (m.to() > p.peerId()) {
          // Peer ids are never reused and a region has one peer per store: the region has a newer
          // peer here, so this replica was removed while it did not hear of it.
          gcReplica(p, "a message from peer " + m.from() + " is addressed to a newer peer " + m.to()
              + " of the region on this store");
        }
        return false;
      }
      if (m.type() == MessageType.SNAPSHOT && !p.initialized() && m.snapshot() != null) {
        return !overlapsOtherRegion(groupId, m.snapshot().data());
      }
      return true;
    }
    Long tombstoned = tombstones.get(groupId);
    if (tombstoned != null && m.to() <= tombstoned) {
      return false;
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
      tombstones.remove(regionId);
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
    destroyReplica(peer, false);
  }

  /**
   * Removes a replica found to be no longer a member of its region (PD lists the region with a
   * newer conf_ver without this peer, or a newer peer of the region here spoke): it stops serving
   * at once; its group, data and records go in one batch, leaving a TOMBSTONE record. No-op if the
   * replica was replaced or is already being removed. Any thread; does not block.
   */
  void gcReplica(RegionPeer peer, String why) {
    if (peer.state() != RegionPeer.State.NORMAL || peers.get(peer.regionId()) != peer || closed) {
      return;
    }
    peer.markTombstone();
    LOG.info("{} is stale and is removed from store {}: {}", peer, storeId, why);
    destroyReplica(peer, true);
  }

  /** Destroys the group and, in the same batch, deletes the data (and writes the tombstone record if asked). */
  private void destroyReplica(RegionPeer peer, boolean writeRecord) {
    long id = peer.regionId();
    java.util.function.Consumer<StorageBatch> cleanup = b -> {
      if (writeRecord) {
        b.put(Cf.META, RegionRecords.regionKey(id), RegionRecords.encodeRegion(RegionPeer.State.TOMBSTONE,
            peer.peerId(), peer.region()));
        b.deleteRange(Cf.META, RegionRecords.dedupStart(id), RegionRecords.dedupEnd(id));
      }
      deleteData(b, id, peer.region());
    };
    java.util.concurrent.CompletableFuture<Void> done;
    if (node.driver().info(id) != null) {
      done = node.driver().destroyGroup(id, cleanup);
    } else {
      done = java.util.concurrent.CompletableFuture.runAsync(() -> {
        try (StorageBatch b = node.storage().newBatch()) {
          if (node.storage().hasGroup(id)) {
            b.destroyGroup(id);
          }
          cleanup.accept(b);
          node.storage().write(b);
        }
      });
    }
    done.whenComplete((v, ex) -> {
      if (ex != null) {
        if (!closed) {
          LOG.error("{} could not be deleted; the store finishes the job when it restarts: {}", peer, ex.toString(),
              ex);
        }
        return;
      }
      tombstones.put(id, peer.peerId());
      peers.remove(id, peer);
      LOG.info("{} destroyed on store {}: group, data and de-duplication table deleted, region tombstoned", peer,
          storeId);
    });
  }

  /**
   * Deletes the data of {@code region}'s range into {@code b}, except what another live region on
   * this store covers. Call once nothing writes to the region's group any more.
   */
  private void deleteData(StorageBatch b, long regionId, Region region) {
    if (region == null) {
      return;
    }
    List<Region> others = new ArrayList<>();
    for (RegionPeer o : peers.values()) {
      if (o.regionId() != regionId && o.state() == RegionPeer.State.NORMAL && o.region() != null) {
        others.add(o.region());
      }
    }
    for (byte[][] part : KeyRange.subtract(region.getStartKey().toByteArray(), region.getEndKey().toByteArray(),
        others)) {
      byte[] end = part[1];
      if (end.length == 0) {
        byte[] last = RegionRecords.lastDataKeyFrom(node.storage(), part[0]);
        if (last == null) {
          continue;
        }
        end = KeyRange.successor(last);
      }
      if (!KeyRange.isEmpty(part[0], end)) {
        b.deleteRange(Cf.DATA, part[0], end);
      }
    }
  }

  /** Sends the region's heartbeat now if this store leads it (tests; PD admin later). */
  void regionHeartbeatNow(long regionId) {
    RegionPeer p = peers.get(regionId);
    StoreTasks t = tasks;
    if (p != null && t != null) {
      t.regionHeartbeatSoon(p);
    }
  }

  /** The peer id this store's replica of {@code regionId} had when it was tombstoned, or 0. */
  public long tombstonedPeer(long regionId) {
    Long t = tombstones.get(regionId);
    return t == null ? 0 : t;
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

  /** Snapshots being received from other stores now. */
  public int receivingSnapshots() {
    return node.receivingSnapshots();
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
