package io.flotilla.pd.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.Timestamps;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.pdinternal.BootstrapCluster;
import io.flotilla.engine.proto.pdinternal.PdClusterRecord;
import io.flotilla.engine.proto.pdinternal.PdCommand;
import io.flotilla.engine.proto.pdinternal.PdRegionRecord;
import io.flotilla.engine.proto.pdinternal.PdStateSnapshot;
import io.flotilla.engine.proto.pdinternal.SetStoreStateCommand;
import io.flotilla.engine.raft.Entry;
import io.flotilla.region.driver.StateMachine;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.storage.StorageException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PD's replicated state machine: applies {@link PdCommand}s (protobuf, {@code pd_internal.proto})
 * to the {@link MetaState} and writes every change into the driver's {@link StorageBatch}, the same
 * batch that records the applied index, so apply is exactly-once across crashes. On start it loads
 * the state the last written batch left ({@link MetaKeys} has the layout).
 *
 * <h2>Rules (the same on every member: they depend only on the state and the entry)</h2>
 *
 * <ul>
 *   <li>Cluster id: the first {@code InitCluster} sets it; later ones change nothing.
 *   <li>Bootstrap: once; the region must cover the whole key space and every peer's store must be
 *       registered (or be the bootstrapping store).
 *   <li>Ids: {@code ReserveIds(n)} hands out {@code idBound + 1 .. idBound + n} and raises the bound,
 *       so no id is reserved twice, whichever member leads.
 *   <li>Timestamps: {@code SaveTsoWindow(until)} raises the TSO's saved bound to {@code until} if
 *       higher and answers the bound before it (see {@code TsoAllocator}).
 *   <li>Region epochs: a report is stale, and ignored, if its {@code version} or its {@code
 *       conf_ver} is older than the held region's (compared separately), or if a region it overlaps
 *       has a newer {@code version}. Otherwise it replaces the held region and every region it
 *       overlaps (a split's halves replace the parent). The leader moves only with a term at least
 *       the held leader's.
 *   <li>Store states: Up and Offline go to each other; either goes to Tombstone only while no region
 *       has a peer on the store, unless forced; a Tombstone never changes, and never registers again.
 * </ul>
 *
 * <p>Threads: {@link #apply} and {@link #restore} on the thread driving PD's group; {@link
 * #snapshot} on any thread.
 */
public final class PdStateMachine implements StateMachine<ApplyResult> {
  private static final Logger LOG = LoggerFactory.getLogger(PdStateMachine.class);

  /** PD's Raft group id. */
  public static final long GROUP_ID = 1;
  static final int SNAPSHOT_FORMAT = 1;
  /** Largest id reservation one command may make. */
  public static final long MAX_RESERVATION = 1L << 32;

  private final MetaState state = new MetaState();

  private PdStateMachine() {}

  /** A state machine holding what {@code storage} has for PD's group (nothing if new). */
  public static PdStateMachine open(NodeStorage storage) {
    PdStateMachine sm = new PdStateMachine();
    sm.load(storage);
    return sm;
  }

  public MetaState state() {
    return state;
  }

  // ------------------------------------------------------------------ StateMachine

  @Override
  public List<ApplyResult> apply(long groupId, List<Entry> entries, StorageBatch batch) {
    List<ApplyResult> results = new ArrayList<>(entries.size());
    state.writeLock().lock();
    try {
      for (Entry e : entries) {
        results.add(e.data().length == 0 ? null : applyOne(groupId, e, batch));
      }
    } finally {
      state.writeLock().unlock();
    }
    return results;
  }

  @Override
  public byte[] snapshot(long groupId) {
    return state.toSnapshot().toByteArray();
  }

  @Override
  public void restore(long groupId, byte[] data, StorageBatch batch) {
    PdStateSnapshot snap;
    try {
      snap = PdStateSnapshot.parseFrom(data);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("PD snapshot of group " + groupId + " does not parse: " + e.getMessage(), e);
    }
    if (snap.getFormat() != SNAPSHOT_FORMAT) {
      throw new IllegalStateException("PD snapshot has format " + snap.getFormat() + "; this build reads "
          + SNAPSHOT_FORMAT);
    }
    state.writeLock().lock();
    try {
      state.clear();
      batch.deleteRange(Cf.META, MetaKeys.first(groupId), MetaKeys.end(groupId));
      state.setCluster(snap.getCluster());
      batch.put(Cf.META, MetaKeys.cluster(groupId), snap.getCluster().toByteArray());
      for (Store s : snap.getStoresList()) {
        state.putStore(s);
        batch.put(Cf.META, MetaKeys.store(groupId, s.getId()), s.toByteArray());
      }
      for (PdRegionRecord r : snap.getRegionsList()) {
        state.regionsLocked().put(r);
        batch.put(Cf.META, MetaKeys.region(groupId, r.getRegion().getId()), r.toByteArray());
      }
    } finally {
      state.writeLock().unlock();
    }
    LOG.info("PD state restored from a snapshot [group={}] cluster={} stores={} regions={} idBound={} tsoSavedUntil={}",
        groupId, snap.getCluster().getClusterId(), snap.getStoresCount(), snap.getRegionsCount(),
        snap.getCluster().getIdBound(), snap.getCluster().getTsoSavedUntilMs());
  }

  // ------------------------------------------------------------------ commands

  private ApplyResult applyOne(long groupId, Entry e, StorageBatch batch) {
    PdCommand cmd;
    try {
      cmd = PdCommand.parseFrom(e.data());
    } catch (InvalidProtocolBufferException ex) {
      LOG.error("PD entry {} does not parse; skipped: {}", e.index(), ex.getMessage());
      return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT, "command does not parse");
    }
    Writer w = new Writer(groupId, batch);
    return switch (cmd.getCmdCase()) {
      case INIT_CLUSTER -> initCluster(cmd.getInitCluster().getClusterId(), w);
      case BOOTSTRAP -> bootstrap(cmd.getBootstrap(), w);
      case PUT_STORE -> putStore(cmd.getPutStore().getStore(), w);
      case RESERVE_IDS -> reserveIds(cmd.getReserveIds().getCount(), w);
      case PUT_REGION -> ApplyResult.ok(putRegion(cmd.getPutRegion().getRegion(), w) ? 1 : 0);
      case SPLIT_REGION -> splitRegion(cmd.getSplitRegion().getLeft(), cmd.getSplitRegion().getRight(), w);
      case SET_STORE_STATE -> setStoreState(cmd.getSetStoreState(), w);
      case SAVE_TSO_WINDOW -> saveTsoWindow(cmd.getSaveTsoWindow().getUntilMs(), w);
      case CMD_NOT_SET -> {
        LOG.error("PD entry {} holds a command this build does not know; skipped. Upgrade this PD member",
            e.index());
        yield ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT, "unknown command");
      }
    };
  }

  private ApplyResult initCluster(long clusterId, Writer w) {
    if (state.clusterRecord().getClusterId() == 0 && clusterId != 0) {
      w.cluster(state.clusterRecord().toBuilder().setClusterId(clusterId).build());
      LOG.info("PD cluster id is {}", Long.toUnsignedString(clusterId));
    }
    return ApplyResult.ok(state.clusterRecord().getClusterId());
  }

  private ApplyResult bootstrap(BootstrapCluster b, Writer w) {
    if (state.clusterRecord().getBootstrapped()) {
      return ApplyResult.error(PdErrorType.PD_ERROR_ALREADY_BOOTSTRAPPED, "the cluster is already bootstrapped");
    }
    String problem = bootstrapProblem(b.getStore(), b.getRegion());
    if (problem != null) {
      return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT, problem);
    }
    Store held = state.storeLocked(b.getStore().getId());
    if (held != null && held.getState() == StoreState.STORE_STATE_TOMBSTONE) {
      return ApplyResult.error(PdErrorType.PD_ERROR_STORE_TOMBSTONE,
          "store " + held.getId() + " is a tombstone and may not rejoin");
    }
    ApplyResult stored = putStore(b.getStore(), w);
    if (!stored.isOk()) {
      return stored;
    }
    w.region(PdRegionRecord.newBuilder().setRegion(b.getRegion()).build());
    w.cluster(state.clusterRecord().toBuilder().setBootstrapped(true).build());
    return ApplyResult.ok();
  }

  private String bootstrapProblem(Store store, Region region) {
    if (store.getId() == 0 || store.getAddress().isEmpty()) {
      return "store: needs an id and an address";
    }
    if (region.getId() == 0) {
      return "region: needs an id";
    }
    if (!region.getStartKey().isEmpty() || !region.getEndKey().isEmpty()) {
      return "region: the first region must cover the whole key space (empty start and end keys)";
    }
    if (region.getPeersCount() == 0) {
      return "region: needs at least one peer";
    }
    Set<Long> peerIds = new HashSet<>();
    Set<Long> storeIds = new HashSet<>();
    for (Peer p : region.getPeersList()) {
      if (p.getId() == 0 || !peerIds.add(p.getId()) || !storeIds.add(p.getStoreId())) {
        return "region: peer ids must be non-zero and distinct, one peer per store, got " + region.getPeersList();
      }
      if (p.getStoreId() != store.getId() && state.storeLocked(p.getStoreId()) == null) {
        return "region: peer " + p.getId() + " is on store " + p.getStoreId() + ", which is not registered";
      }
    }
    return null;
  }

  private ApplyResult putStore(Store store, Writer w) {
    if (store.getId() == 0 || store.getAddress().isEmpty()) {
      return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT, "store: needs an id and an address");
    }
    Store held = state.storeLocked(store.getId());
    if (held != null && held.getState() == StoreState.STORE_STATE_TOMBSTONE) {
      return ApplyResult.error(PdErrorType.PD_ERROR_STORE_TOMBSTONE,
          "store " + store.getId() + " is a tombstone and may not rejoin");
    }
    for (Store other : state.storesLocked()) {
      if (other.getId() != store.getId() && other.getAddress().equals(store.getAddress())
          && other.getState() != StoreState.STORE_STATE_TOMBSTONE) {
        return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT, "address " + store.getAddress()
            + " is already used by store " + other.getId());
      }
    }
    // A new store is up; a known one keeps its state (only PD moves it to offline or tombstone).
    StoreState st = held == null ? StoreState.STORE_STATE_UP : held.getState();
    w.store(store.toBuilder().setState(st).build());
    return ApplyResult.ok();
  }

  /**
   * Store states: Up and Offline go to each other freely; either goes to Tombstone once no region
   * has a peer on the store (or with {@code force}); a Tombstone never changes. The value is the
   * number of regions with a peer on the store.
   */
  private ApplyResult setStoreState(SetStoreStateCommand c, Writer w) {
    Store held = state.storeLocked(c.getStoreId());
    if (held == null) {
      return ApplyResult.error(PdErrorType.PD_ERROR_STORE_NOT_FOUND, "no store " + c.getStoreId());
    }
    StoreState to = c.getState();
    if (to == StoreState.UNRECOGNIZED) {
      return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT, "state: must be UP, OFFLINE or TOMBSTONE");
    }
    long replicas = state.regionsLocked().countOnStore(held.getId());
    if (held.getState() == StoreState.STORE_STATE_TOMBSTONE) {
      return to == StoreState.STORE_STATE_TOMBSTONE ? ApplyResult.ok(replicas)
          : ApplyResult.error(PdErrorType.PD_ERROR_STORE_TOMBSTONE, "store " + held.getId()
              + " is a tombstone and may not change state again");
    }
    if (to == StoreState.STORE_STATE_TOMBSTONE && replicas > 0 && !c.getForce()) {
      return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT, "store " + held.getId() + " still holds "
          + replicas + " replicas; set it OFFLINE so PD moves them away first, or force");
    }
    if (held.getState() != to) {
      w.store(held.toBuilder().setState(to).build());
      LOG.info("store {} is now {} (was {}){}", held.getId(), to, held.getState(),
          replicas > 0 && to == StoreState.STORE_STATE_TOMBSTONE ? ", forced with " + replicas + " replicas" : "");
    }
    return ApplyResult.ok(replicas);
  }

  private ApplyResult reserveIds(long count, Writer w) {
    PdClusterRecord c = state.clusterRecord();
    if (count <= 0 || count > MAX_RESERVATION || c.getIdBound() + count < c.getIdBound()) {
      return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT,
          "cannot reserve " + count + " ids above " + c.getIdBound());
    }
    w.cluster(c.toBuilder().setIdBound(c.getIdBound() + count).build());
    return ApplyResult.ok(c.getIdBound() + 1);
  }

  /** Raises the TSO's saved bound to {@code untilMs} (never lowers it); the value is the bound before. */
  private ApplyResult saveTsoWindow(long untilMs, Writer w) {
    PdClusterRecord c = state.clusterRecord();
    if (untilMs <= 0 || untilMs > Timestamps.MAX_PHYSICAL_MS) {
      return ApplyResult.error(PdErrorType.PD_ERROR_INVALID_ARGUMENT,
          "TSO window end must be in [1, " + Timestamps.MAX_PHYSICAL_MS + "] ms, got " + untilMs);
    }
    if (untilMs > c.getTsoSavedUntilMs()) {
      w.cluster(c.toBuilder().setTsoSavedUntilMs(untilMs).build());
    }
    return ApplyResult.ok(c.getTsoSavedUntilMs());
  }

  private ApplyResult splitRegion(Region left, Region right, Writer w) {
    // NB: both records before either is put: putting one half removes the parent it overlaps.
    PdRegionRecord leftRecord = keepLeader(left);
    PdRegionRecord rightRecord = keepLeader(right);
    boolean l = putRegion(leftRecord, w);
    boolean r = putRegion(rightRecord, w);
    return ApplyResult.ok((l ? 1 : 0) | (r ? 2 : 0));
  }

  /** A record for {@code region} with the leader PD holds for its id, if any. */
  private PdRegionRecord keepLeader(Region region) {
    PdRegionRecord held = state.regionsLocked().byId(region.getId());
    PdRegionRecord.Builder b = PdRegionRecord.newBuilder().setRegion(region);
    if (held != null && held.hasLeader()) {
      b.setLeader(held.getLeader()).setLeaderTerm(held.getLeaderTerm());
    }
    return b.build();
  }

  /** Takes {@code report} unless it is stale; whether it was taken. */
  private boolean putRegion(PdRegionRecord report, Writer w) {
    RegionIndex regions = state.regionsLocked();
    Region region = report.getRegion();
    String stale = staleReason(regions, region);
    if (stale != null) {
      LOG.debug("stale report of region {} ignored: {}", region.getId(), stale);
      return false;
    }
    PdRegionRecord held = regions.byId(region.getId());
    PdRegionRecord.Builder next = report.toBuilder();
    if (held != null && held.hasLeader() && report.getLeaderTerm() < held.getLeaderTerm()) {
      next.setLeader(held.getLeader()).setLeaderTerm(held.getLeaderTerm());
    }
    if (next.hasLeader() && !hasPeer(region, next.getLeader().getId())) {
      next.clearLeader().setLeaderTerm(0);
    }
    for (PdRegionRecord o : regions.overlapping(region)) {
      w.removeRegion(o.getRegion().getId());
    }
    w.region(next.build());
    return true;
  }

  /** Why {@code region} must be ignored, or null if PD takes it. */
  static String staleReason(RegionIndex regions, Region region) {
    RegionEpoch epoch = region.getEpoch();
    PdRegionRecord held = regions.byId(region.getId());
    if (held != null) {
      RegionEpoch h = held.getRegion().getEpoch();
      if (epoch.getVersion() < h.getVersion()) {
        return "version " + epoch.getVersion() + " is older than the held " + h.getVersion();
      }
      if (epoch.getConfVer() < h.getConfVer()) {
        return "conf_ver " + epoch.getConfVer() + " is older than the held " + h.getConfVer();
      }
    }
    for (PdRegionRecord o : regions.overlapping(region)) {
      long v = o.getRegion().getEpoch().getVersion();
      if (v > epoch.getVersion()) {
        return "it overlaps region " + o.getRegion().getId() + " of newer version " + v;
      }
    }
    return null;
  }

  private static boolean hasPeer(Region region, long peerId) {
    for (Peer p : region.getPeersList()) {
      if (p.getId() == peerId) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ persistence

  /** Changes the state and records the change in the batch, together. */
  private final class Writer {
    private final long groupId;
    private final StorageBatch batch;

    Writer(long groupId, StorageBatch batch) {
      this.groupId = groupId;
      this.batch = batch;
    }

    void cluster(PdClusterRecord record) {
      state.setCluster(record);
      batch.put(Cf.META, MetaKeys.cluster(groupId), record.toByteArray());
    }

    void store(Store store) {
      state.putStore(store);
      batch.put(Cf.META, MetaKeys.store(groupId, store.getId()), store.toByteArray());
    }

    void region(PdRegionRecord record) {
      state.regionsLocked().put(record);
      batch.put(Cf.META, MetaKeys.region(groupId, record.getRegion().getId()), record.toByteArray());
    }

    void removeRegion(long regionId) {
      state.regionsLocked().remove(regionId);
      batch.delete(Cf.META, MetaKeys.region(groupId, regionId));
    }
  }

  private void load(NodeStorage storage) {
    state.writeLock().lock();
    try (KvSnapshot snap = storage.reader().snapshot()) {
      snap.scan(Cf.META, MetaKeys.first(GROUP_ID), MetaKeys.end(GROUP_ID), at -> {
        loadRecord(storage, at.key(), at.value());
        return true;
      });
    } finally {
      state.writeLock().unlock();
    }
    if (state.clusterId() != 0 || state.regionCount() > 0) {
      LOG.info("PD state loaded [dir={}] cluster={} bootstrapped={} stores={} regions={} idBound={} tsoSavedUntil={}",
          storage.config().dataDir(), Long.toUnsignedString(state.clusterId()), state.isBootstrapped(),
          state.stores().size(), state.regionCount(), state.idBound(), state.tsoSavedUntilMs());
    }
  }

  private void loadRecord(NodeStorage storage, byte[] key, byte[] value) {
    try {
      switch (MetaKeys.tag(key)) {
        case MetaKeys.CLUSTER_TAG -> state.setCluster(PdClusterRecord.parseFrom(value));
        case MetaKeys.STORE_TAG -> state.putStore(Store.parseFrom(value));
        case MetaKeys.REGION_TAG -> state.regionsLocked().put(PdRegionRecord.parseFrom(value));
        default -> LOG.warn("unknown PD record with tag {} ignored (a newer PD wrote it?)", MetaKeys.tag(key));
      }
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException("loading PD state from " + storage.config().dataDir() + " failed: "
          + e.getMessage(), e);
    }
  }
}
