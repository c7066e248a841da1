package io.flotilla.region.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.client.PdException;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.peer.RegionRecords;
import io.flotilla.region.split.SplitApplier;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the store with PD and bootstraps the cluster. The rule:
 *
 * <ol>
 *   <li>every store registers ({@code putStore}) and, while it holds no region, asks PD whether
 *       the cluster is bootstrapped;
 *   <li>while it is not, each store waits until PD lists at least {@code bootstrapReplicas} Up
 *       stores (not down); the store with the lowest id among them is the one to bootstrap, the
 *       others wait for Raft messages;
 *   <li>the bootstrapping store allocates the region id and one peer id per store from PD, and
 *       creates the first region (whole key space, epoch version 1, conf_ver 1, one voter on each
 *       of the {@code bootstrapReplicas} lowest-id Up stores) locally as an initialized region whose
 *       log starts after a snapshot at index 5, term 5 (TiKV's scheme: the other replicas have
 *       nothing, so they are brought up by a snapshot of the leader). A "bootstrap pending" record
 *       in the {@code default} column family is written in the same batch;
 *   <li>it calls {@code pd.bootstrap}; on success, or on ALREADY_BOOTSTRAPPED when PD holds this
 *       very region (an earlier attempt got through), it deletes the pending record and campaigns.
 *       On ALREADY_BOOTSTRAPPED with another region, it deletes its local region. A crash before
 *       the answer leaves the pending record: the next start resumes at step 4.
 * </ol>
 *
 * <p>Other stores learn of the region from the leader's messages: each creates an uninitialized
 * replica (see {@link Store}), votes, and receives the snapshot.
 *
 * <p>Threads: the store's task executor.
 */
final class StoreBootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(StoreBootstrap.class);
  static final byte[] PENDING_KEY = "flotilla.region.bootstrap-pending".getBytes(StandardCharsets.UTF_8);

  private final Store store;
  private final PdClient pd;
  private final StoreConfig config;
  private final ScheduledExecutorService timers;
  private boolean registered;

  StoreBootstrap(Store store, PdClient pd, StoreConfig config, ScheduledExecutorService timers) {
    this.store = store;
    this.pd = pd;
    this.config = config;
    this.timers = timers;
  }

  /** Allocates a store id, retrying while PD is unreachable. */
  static long allocStoreId(PdClient pd, StoreConfig config) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (true) {
      try {
        return pd.allocId().get(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while allocating a store id from PD", e);
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("cannot allocate a store id: PD unreachable for 5 minutes: " + e, e);
        }
        LOG.warn("allocating a store id from PD failed, retrying: {}", e.toString());
        sleep(config.pdRetryInterval().toMillis());
      }
    }
  }

  void start() {
    timers.execute(this::step);
  }

  private void step() {
    if (store.isClosed()) {
      return;
    }
    try {
      if (!registered) {
        pd.putStore(storeMeta()).get(10, TimeUnit.SECONDS);
        registered = true;
        LOG.info("store {} registered with PD at {}", store.storeId(), store.address());
      }
      if (done()) {
        return;
      }
    } catch (Exception e) {
      LOG.warn("store {}: PD not reachable for registration or bootstrap, retrying: {}", store.storeId(),
          unwrap(e).toString());
    }
    timers.schedule(this::step, config.pdRetryInterval().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One bootstrap attempt; true when nothing is left to do. */
  private boolean done() throws Exception {
    Region pending = pendingRegion();
    if (pending != null) {
      return finish(pending);
    }
    if (!store.peers().isEmpty()) {
      return true;
    }
    if (pd.isBootstrapped().get(10, TimeUnit.SECONDS)) {
      return true;
    }
    List<StoreInfo> up = new ArrayList<>();
    for (StoreInfo s : pd.getStores(true).get(10, TimeUnit.SECONDS)) {
      if (s.getStore().getState() == StoreState.STORE_STATE_UP && !s.getDown()) {
        up.add(s);
      }
    }
    up.sort(Comparator.comparingLong(s -> s.getStore().getId()));
    int n = config.bootstrapReplicas();
    if (up.size() < n || up.get(0).getStore().getId() != store.storeId()) {
      return false;
    }
    return finish(createFirstRegion(up.subList(0, n)));
  }

  private Region createFirstRegion(List<StoreInfo> stores) throws Exception {
    long regionId = pd.allocId().get(10, TimeUnit.SECONDS);
    long firstPeer = pd.allocIds(stores.size()).get(10, TimeUnit.SECONDS);
    Region.Builder b = Region.newBuilder().setId(regionId).setStartKey(ByteString.EMPTY).setEndKey(ByteString.EMPTY)
        .setEpoch(RegionEpoch.newBuilder().setVersion(1).setConfVer(1));
    long myPeer = 0;
    for (int i = 0; i < stores.size(); i++) {
      long sid = stores.get(i).getStore().getId();
      b.addPeers(Peer.newBuilder().setId(firstPeer + i).setStoreId(sid));
      if (sid == store.storeId()) {
        myPeer = firstPeer + i;
      }
    }
    Region region = b.build();
    NodeStorage s = store.storage();
    try (StorageBatch batch = s.newBatch()) {
      batch.createGroup(regionId, SplitApplier.confState(region));
      batch.applySnapshot(regionId, SplitApplier.initialSnapshot(region));
      batch.setHardState(regionId, SplitApplier.initialHardState());
      batch.setApplied(regionId, SplitApplier.INIT_INDEX);
      batch.put(Cf.META, RegionRecords.regionKey(regionId),
          RegionRecords.encodeRegion(RegionPeer.State.NORMAL, myPeer, region));
      batch.put(Cf.DEFAULT, PENDING_KEY, region.toByteArray());
      s.write(batch);
    }
    store.control().addBootstrapped(new RegionPeer(regionId, myPeer, RegionPeer.State.NORMAL, region, Map.of()));
    LOG.info("store {} created the first region {} with peers {}; bootstrapping PD", store.storeId(), regionId,
        region.getPeersList().stream().map(p -> p.getId() + "@store" + p.getStoreId()).toList());
    return region;
  }

  private boolean finish(Region region) throws Exception {
    try {
      pd.bootstrap(storeMeta(), region).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(unwrap(e) instanceof PdException pe) || pe.type() != PdErrorType.PD_ERROR_ALREADY_BOOTSTRAPPED) {
        throw e;
      }
      if (pd.getRegionById(region.getId()).get(10, TimeUnit.SECONDS).isEmpty()) {
        LOG.warn("store {}: PD was bootstrapped by another store; dropping local region {}", store.storeId(),
            region.getId());
        store.control().dropBootstrapped(region.getId());
        try (StorageBatch batch = store.storage().newBatch()) {
          batch.delete(Cf.META, RegionRecords.regionKey(region.getId()));
          batch.delete(Cf.DEFAULT, PENDING_KEY);
          store.storage().write(batch);
        }
        return true;
      }
    }
    try (StorageBatch batch = store.storage().newBatch()) {
      batch.delete(Cf.DEFAULT, PENDING_KEY);
      store.storage().write(batch);
    }
    LOG.info("store {} bootstrapped the cluster with region {}", store.storeId(), region.getId());
    store.driver().campaign(region.getId());
    return true;
  }

  private Region pendingRegion() {
    try {
      byte[] v = store.storage().reader().get(Cf.DEFAULT, PENDING_KEY);
      return v == null ? null : Region.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("reading the bootstrap record failed: " + e.getMessage(), e);
    }
  }

  io.flotilla.engine.proto.Store storeMeta() {
    return io.flotilla.engine.proto.Store.newBuilder().setId(store.storeId()).setAddress(store.address())
        .setState(StoreState.STORE_STATE_UP).setVersion("flotilla").setStartTimeMs(StoreTasks.START_MS).build();
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
