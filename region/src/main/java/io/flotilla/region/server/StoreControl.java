package io.flotilla.region.server;

import io.flotilla.engine.Threads;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.peer.KvStateMachine;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.peer.RegionRecords;
import io.flotilla.region.snapshot.SnapshotData;
import io.flotilla.region.split.SplitApplier;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.Keys;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's control loop (TiKV's store FSM): the one owner of the replica lifecycle. It alone
 * creates, registers, destroys, tombstones and garbage-collects replicas, on one thread; others
 * only enqueue. Transport threads pass every inbound Raft message through {@link #accept}, which
 * never blocks and never touches the disk: a message for a region this store does not hold is
 * queued for the loop, which creates the replica (many in one batch, one fsync) and then hands it
 * the message.
 *
 * <table>
 *   <caption>Replica lifecycle (all transitions on the loop)</caption>
 *   <tr><th>from</th><th>event</th><th>to</th></tr>
 *   <tr><td>none</td><td>vote, append or heartbeat to peer p, p newer than any tombstone</td>
 *       <td>uninitialized (no range; waits for a snapshot)</td></tr>
 *   <tr><td>none</td><td>a split applied here (the apply thread reserves the id first), or bootstrap</td>
 *       <td>initialized</td></tr>
 *   <tr><td>any</td><td>a conf change removing it applied; PD lists the region without it at a newer
 *       conf_ver; a message to a newer peer of the region here</td>
 *       <td>tombstone (peer id and epoch kept)</td></tr>
 *   <tr><td>tombstone</td><td>a message to a newer peer id of the region</td><td>uninitialized</td></tr>
 * </table>
 *
 * <p>A new split's first election: the parent's leader campaigns for the new region at once, and
 * its (pre-)votes often reach a store that has not applied the split yet or is starting the new
 * group. Such a vote (its candidate's log ends at the split's initial index) does not create an
 * uninitialized replica (that would then need a snapshot); it is parked, one per region, and handed
 * to the new replica when the split starts it here (TiKV's pending vote messages). Otherwise the
 * vote is lost, and the region waits an election timeout for any replica to campaign. A store with
 * no initialized region parks nothing (such a vote is a bootstrap's), and a vote parked for over 2 s
 * was not a split's here: the candidate's next one creates the replica as before.
 *
 * <p>Tombstones last: the batch that destroys a replica's group and deletes its data writes the
 * TOMBSTONE record (peer id, region with its epoch) after the group's records are deleted, so the
 * record survives the group (a group's range delete in {@code meta} covers it). A message to a
 * tombstoned peer id or an older one is dropped, across restarts, so a removed replica can never
 * campaign again.
 *
 * <p>Threads: {@link #accept} on transport threads; {@link #gc}, {@link #removed},
 * {@link #startSplitChild} from any thread (they enqueue); {@link #call} from threads that may
 * block (bootstrap, start-up), never from the loop, a poller or a transport thread.
 */
final class StoreControl implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreControl.class);
  private static final ConfState NO_MEMBERS = new ConfState(List.of(), List.of(), List.of(), List.of(), false);

  private record Creation(long regionId, long peerId, Message first) {}

  private final long storeId;
  private final RaftNode node;
  private final Replicas replicas;
  private final KvStateMachine sm;
  private final ExecutorService loop;
  private static final int MAX_PARKED_VOTES = 1024;

  private final Queue<Creation> toCreate = new ConcurrentLinkedQueue<>();
  private static final long PARK_VOTE_NANOS = TimeUnit.SECONDS.toNanos(2);

  private record ParkedVote(Message vote, long since) {}

  private static final long PENDING_SNAPSHOT_NANOS = TimeUnit.SECONDS.toNanos(60);

  private record PendingSnapshot(Region region, long since) {}

  /** Guarded by itself. */
  private final Map<Long, PendingSnapshot> pendingSnapshots = new java.util.HashMap<>();

  private final Map<Long, ParkedVote> parkedVotes = new ConcurrentHashMap<>();
  private final AtomicBoolean createQueued = new AtomicBoolean();
  private volatile boolean closed;

  StoreControl(long storeId, RaftNode node, Replicas replicas, KvStateMachine sm) {
    this.storeId = storeId;
    this.node = node;
    this.replicas = replicas;
    this.sm = sm;
    this.loop = Executors.newSingleThreadExecutor(Threads.named("flotilla-store-" + storeId + "-control"));
  }

  /** Loads every region record and starts the replicas' groups; finishes removals a crash cut short. */
  int load() {
    return call(() -> {
      int started = 0;
      List<RegionRecords.Loaded> unfinished = new ArrayList<>();
      for (RegionRecords.Loaded r : RegionRecords.loadAll(storage().reader())) {
        if (r.state() == RegionPeer.State.TOMBSTONE) {
          replicas.loadTombstone(r.regionId(), new Replicas.Tombstone(r.peerId(), epochOf(r.region())));
          if (storage().hasGroup(r.regionId())) {
            unfinished.add(r);
          }
          continue;
        }
        RegionPeer p = new RegionPeer(r.regionId(), r.peerId(), r.state(), r.region(), r.dedup());
        replicas.put(p);
        node.driver().startGroup(r.regionId(), r.peerId(), List.of(), sm);
        started++;
      }
      for (RegionRecords.Loaded r : unfinished) {
        // Tombstoned by a conf change, but the store stopped before its group and data were deleted.
        try (StorageBatch b = storage().newBatch()) {
          b.destroyGroup(r.regionId());
          writeTombstone(b, r.regionId(), r.peerId(), r.region());
          deleteData(b, r.regionId(), r.region());
          storage().write(b);
        }
        LOG.info("[region={} peer={}] finished deleting a replica tombstoned before the restart", r.regionId(),
            r.peerId());
      }
      return started;
    });
  }

  // ------------------------------------------------------------------ inbound (transport threads)

  /** Whether the driver gets {@code m}; queues the creation of a replica it is addressed to. Never blocks. */
  boolean accept(long fromNode, long groupId, Message m) {
    if (fromNode != 0 && m.from() != 0) {
      replicas.learn(m.from(), fromNode);
    }
    RegionPeer p = replicas.get(groupId);
    if (p != null) {
      if (p.state() == RegionPeer.State.TOMBSTONE) {
        return false;
      }
      if (m.to() != p.peerId()) {
        if (m.to() > p.peerId()) {
          // Peer ids are never reused and a region has one peer per store: the region has a newer
          // peer here, so this replica was removed while it did not hear of it.
          gc(p, "a message from peer " + m.from() + " is addressed to a newer peer " + m.to()
              + " of the region on this store");
        }
        return false;
      }
      if (m.type() == MessageType.SNAPSHOT && m.snapshot() != null) {
        return admitSnapshot(groupId, m.snapshot().data());
      }
      return true;
    }
    Replicas.Tombstone t = replicas.tombstone(groupId);
    if (t != null && m.to() <= t.peerId()) {
      return false;
    }
    boolean vote = m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE;
    if (vote && m.index() <= SplitApplier.INIT_INDEX && m.to() != 0 && parkNewSplitVote(groupId, m)) {
      return false;
    }
    boolean creates = vote || m.type() == MessageType.APP || m.type() == MessageType.HEARTBEAT;
    if (!creates || m.to() == 0 || closed || !replicas.reserve(groupId)) {
      return false; // NB: dropped while a creation is under way; the sender retries (Raft tolerates loss)
    }
    toCreate.add(new Creation(groupId, m.to(), m));
    if (createQueued.compareAndSet(false, true)) {
      enqueue(this::createQueued);
    }
    return false;
  }

  /**
   * Parks a vote that looks like a new split's first election (see the class comment) if this
   * store holds initialized regions (on an empty store it is a bootstrap's election: create). A vote
   * parked longer than {@link #PARK_VOTE_NANOS} was not for a split here: the next one creates.
   */
  private boolean parkNewSplitVote(long groupId, Message m) {
    long now = System.nanoTime();
    ParkedVote old = parkedVotes.get(groupId);
    if (old != null) {
      if (now - old.since() > PARK_VOTE_NANOS) {
        parkedVotes.remove(groupId);
        return false;
      }
      parkedVotes.put(groupId, new ParkedVote(m, old.since()));
      return true;
    }
    if (parkedVotes.size() >= MAX_PARKED_VOTES || replicas.all().stream().noneMatch(RegionPeer::initialized)) {
      return false;
    }
    parkedVotes.put(groupId, new ParkedVote(m, now));
    return true;
  }

  /**
   * Whether a snapshot for {@code groupId} may be stepped: not if its range overlaps another
   * region initialized here (that one has not applied a split yet, or this snapshot is stale), nor a
   * snapshot accepted for another region and not restored yet (TiKV's pending snapshot regions).
   * Two overlapping snapshots restored here in either order would have the later one's range delete
   * wipe what the earlier one ingested. The leader sends it again later. An accepted snapshot stays
   * pending until it is restored ({@link #snapshotRestored}), its replica is destroyed, or for
   * {@link #PENDING_SNAPSHOT_NANOS} (one the Raft core refused as stale is never restored).
   */
  private boolean admitSnapshot(long groupId, byte[] snapshot) {
    Region incoming = SnapshotData.peekRegion(snapshot);
    if (incoming == null) {
      return true;
    }
    synchronized (pendingSnapshots) {
      for (RegionPeer other : replicas.all()) {
        Region r = other.region();
        if (other.regionId() != groupId && r != null && KeyRange.overlaps(r, incoming)) {
          LOG.info("[region={}] dropping a snapshot at version {}: it overlaps region {} here (version {}), which has"
              + " not applied its split yet or is newer; the leader sends it again", groupId,
              incoming.getEpoch().getVersion(), other.regionId(), r.getEpoch().getVersion());
          return false;
        }
      }
      long now = System.nanoTime();
      for (Map.Entry<Long, PendingSnapshot> e : pendingSnapshots.entrySet()) {
        PendingSnapshot other = e.getValue();
        if (e.getKey() != groupId && now - other.since() < PENDING_SNAPSHOT_NANOS
            && KeyRange.overlaps(other.region(), incoming)) {
          LOG.info("[region={}] dropping a snapshot: it overlaps the snapshot of region {} being restored here;"
              + " the leader sends it again", groupId, e.getKey());
          return false;
        }
      }
      pendingSnapshots.put(groupId, new PendingSnapshot(incoming, now));
      return true;
    }
  }

  /** The region's snapshot was restored (or its replica destroyed): it no longer holds its range pending. */
  void snapshotRestored(long regionId) {
    synchronized (pendingSnapshots) {
      pendingSnapshots.remove(regionId);
    }
  }

  // ------------------------------------------------------------------ creation (the loop)

  /** Creates every queued uninitialized replica in one batch, then hands each its first message. */
  private void createQueued() {
    createQueued.set(false);
    List<Creation> batch = new ArrayList<>();
    for (Creation c; (c = toCreate.poll()) != null; ) {
      batch.add(c);
    }
    if (batch.isEmpty()) {
      return;
    }
    try (StorageBatch b = storage().newBatch()) {
      for (Creation c : batch) {
        if (!storage().hasGroup(c.regionId())) {
          b.createGroup(c.regionId(), NO_MEMBERS);
        }
        b.put(Cf.META, RegionRecords.regionKey(c.regionId()),
            RegionRecords.encodeRegion(RegionPeer.State.NORMAL, c.peerId(), null));
      }
      storage().write(b);
    } catch (RuntimeException e) {
      batch.forEach(c -> replicas.release(c.regionId()));
      if (!closed) {
        LOG.warn("store {}: cannot create {} replicas (first: region {} peer {}); their leaders will retry: {}",
            storeId, batch.size(), batch.get(0).regionId(), batch.get(0).peerId(), e.toString());
      }
      return;
    }
    for (Creation c : batch) {
      RegionPeer p = new RegionPeer(c.regionId(), c.peerId(), RegionPeer.State.NORMAL, null, Map.of());
      replicas.put(p);
      node.driver().startGroup(c.regionId(), c.peerId(), List.of(), sm);
      replicas.release(c.regionId());
      node.driver().deliver(c.regionId(), c.first());
      LOG.info("{} created uninitialized on store {}: it waits for the leader's snapshot", p, storeId);
    }
  }

  /** A split made {@code child} durable here (its id reserved by the apply): start its group. */
  void startSplitChild(RegionPeer child, boolean campaign) {
    enqueue(() -> {
      try {
        replicas.put(child);
        node.driver().startGroup(child.regionId(), child.peerId(), List.of(), sm, false);
        ParkedVote parked = parkedVotes.remove(child.regionId());
        if (campaign) {
          node.driver().campaign(child.regionId());
        } else if (parked != null && parked.vote().to() == child.peerId()) {
          node.driver().deliver(child.regionId(), parked.vote());
        }
      } catch (RuntimeException e) {
        LOG.error("{} cannot start its group on store {} after the split: {}", child, storeId, e.toString(), e);
      } finally {
        replicas.release(child.regionId());
      }
    });
  }

  /** Registers and starts a region bootstrap created here; its records are already durable. Blocks. */
  void addBootstrapped(RegionPeer p) {
    call(() -> {
      replicas.put(p);
      node.driver().startGroup(p.regionId(), p.peerId(), List.of(), sm, false);
      return null;
    });
  }

  /** Stops and forgets a region bootstrap created here that PD did not take (another store won). Blocks. */
  void dropBootstrapped(long regionId) {
    call(() -> {
      RegionPeer p = replicas.get(regionId);
      node.driver().destroyGroup(regionId).get(10, TimeUnit.SECONDS);
      if (p != null) {
        replicas.remove(p);
      }
      return null;
    });
  }

  // ------------------------------------------------------------------ removal (the loop)

  /**
   * A conf change removing {@code peer} was made durable with its TOMBSTONE record (applying thread):
   * destroy its group and delete its data.
   */
  void removed(RegionPeer peer) {
    enqueue(() -> destroy(peer));
  }

  /**
   * {@code peer} is no longer a member of its region (PD says so, or a newer peer of the region here
   * spoke): it stops serving, then goes like a removed one. No-op if it was replaced or is going.
   */
  void gc(RegionPeer peer, String why) {
    enqueue(() -> {
      if (peer.state() != RegionPeer.State.NORMAL || replicas.get(peer.regionId()) != peer) {
        return;
      }
      peer.markTombstone();
      LOG.info("{} is stale and is removed from store {}: {}", peer, storeId, why);
      destroy(peer);
    });
  }

  /** Destroys the group and, in the same batch, deletes the data and writes the tombstone. */
  private void destroy(RegionPeer peer) {
    long id = peer.regionId();
    if (replicas.get(id) != peer) {
      return;
    }
    Region region = peer.region();
    snapshotRestored(id);
    java.util.function.Consumer<StorageBatch> cleanup = b -> {
      writeTombstone(b, id, peer.peerId(), region);
      deleteData(b, id, region);
    };
    try {
      if (node.driver().info(id) != null) {
        node.driver().destroyGroup(id, cleanup).join();
      } else {
        try (StorageBatch b = storage().newBatch()) {
          if (storage().hasGroup(id)) {
            b.destroyGroup(id);
          }
          cleanup.accept(b);
          storage().write(b);
        }
      }
    } catch (RuntimeException e) { // CompletionException from the driver, or the write
      if (!closed) {
        LOG.error("{} could not be deleted; the store finishes the job when it restarts: {}", peer, e.toString(), e);
      }
      return;
    }
    replicas.tombstoned(peer, new Replicas.Tombstone(peer.peerId(), epochOf(region)));
    LOG.info("{} destroyed on store {}: group, data and de-duplication table deleted, region tombstoned", peer,
        storeId);
  }

  /**
   * The TOMBSTONE record and the end of the region's other records (de-duplication, snapshot being
   * applied). NB: after the group's own range delete in the same batch, which covers the record.
   */
  private static void writeTombstone(StorageBatch b, long regionId, long peerId, Region region) {
    b.deleteRange(Cf.META, RegionRecords.dedupStart(regionId), Keys.groupEnd(regionId));
    b.put(Cf.META, RegionRecords.regionKey(regionId),
        RegionRecords.encodeRegion(RegionPeer.State.TOMBSTONE, peerId, region));
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
    for (RegionPeer o : replicas.all()) {
      if (o.regionId() != regionId && o.state() == RegionPeer.State.NORMAL && o.region() != null) {
        others.add(o.region());
      }
    }
    for (byte[][] part : KeyRange.subtract(region.getStartKey().toByteArray(), region.getEndKey().toByteArray(),
        others)) {
      // NB: every family: raw data and the transaction families' range of the same keys.
      RegionRecords.deleteKeys(b, storage().reader(), part[0], part[1]);
    }
  }

  // ------------------------------------------------------------------ the loop itself

  private void enqueue(Runnable task) {
    if (closed) {
      return;
    }
    try {
      loop.execute(() -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          if (!closed) {
            LOG.error("store {}: control task failed: {}", storeId, e.toString(), e);
          }
        }
      });
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  /** Runs {@code task} on the loop and waits for it; rethrows what it threw. */
  <T> T call(Callable<T> task) {
    Future<T> f = loop.submit(task);
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for store " + storeId + "'s control loop", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("store " + storeId + " control task failed: " + e.getCause(), e.getCause());
    }
  }

  private NodeStorage storage() {
    return node.storage();
  }

  private static RegionEpoch epochOf(Region r) {
    return r == null ? RegionEpoch.getDefaultInstance() : r.getEpoch();
  }

  /** Stops the loop; queued work is dropped (a restart redoes it from the records). */
  @Override
  public void close() {
    closed = true;
    loop.shutdownNow();
    try {
      loop.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** For tests: completes once everything queued before it has run. */
  CompletableFuture<Void> drained() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    enqueue(() -> f.complete(null));
    return f;
  }
}
