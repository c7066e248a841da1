package io.flotilla.pd.meta;

import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.pdinternal.PdClusterRecord;
import io.flotilla.engine.proto.pdinternal.PdRegionRecord;
import io.flotilla.engine.proto.pdinternal.PdStateSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * What PD replicates, as applied on this member: the cluster id, whether the cluster is
 * bootstrapped, the stores, the regions (by id and by start key), the id bound (the highest id
 * ever reserved) and the TSO's saved bound. {@link PdStateMachine} changes it while applying
 * entries; the RPC handlers read it. Reads are as of the last applied entry: a caller that needs
 * linearizable reads passes a read-index barrier first (see {@code PdService}).
 *
 * <p>Threads: reads from any thread (read lock); writes only by {@link PdStateMachine} on the
 * thread driving PD's group (write lock). Returned values are immutable protobuf messages.
 */
public final class MetaState {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private long clusterId;
  private boolean bootstrapped;
  private long idBound;
  private long tsoSavedUntilMs;
  private final TreeMap<Long, Store> stores = new TreeMap<>();
  private final RegionIndex regions = new RegionIndex();

  /** The cluster id, 0 until PD's first leader picked one. */
  public long clusterId() {
    lock.readLock().lock();
    try {
      return clusterId;
    } finally {
      lock.readLock().unlock();
    }
  }

  public boolean isBootstrapped() {
    lock.readLock().lock();
    try {
      return bootstrapped;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The highest id reserved so far: every id handed out is at most this. */
  public long idBound() {
    lock.readLock().lock();
    try {
      return idBound;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The TSO's saved bound: no timestamp handed out has a physical part (ms) at or beyond it. */
  public long tsoSavedUntilMs() {
    lock.readLock().lock();
    try {
      return tsoSavedUntilMs;
    } finally {
      lock.readLock().unlock();
    }
  }

  public Optional<Store> store(long storeId) {
    lock.readLock().lock();
    try {
      return Optional.ofNullable(stores.get(storeId));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Every store, by id. */
  public List<Store> stores() {
    lock.readLock().lock();
    try {
      return new ArrayList<>(stores.values());
    } finally {
      lock.readLock().unlock();
    }
  }

  public Optional<PdRegionRecord> regionById(long regionId) {
    lock.readLock().lock();
    try {
      return Optional.ofNullable(regions.byId(regionId));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The region holding {@code key}; empty in a gap or before bootstrap. */
  public Optional<PdRegionRecord> regionByKey(byte[] key) {
    lock.readLock().lock();
    try {
      return Optional.ofNullable(regions.byKey(key));
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Regions overlapping [{@code start}, {@code end}) ({@code end} empty: to the end), in key
   * order, at most {@code limit} (0: all).
   */
  public List<PdRegionRecord> scanRegions(byte[] start, byte[] end, int limit) {
    lock.readLock().lock();
    try {
      return regions.scan(start, end, limit);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Every region, in key order. */
  public List<PdRegionRecord> regions() {
    lock.readLock().lock();
    try {
      return new ArrayList<>(regions.inKeyOrder());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** How many regions have a peer (any role) on {@code storeId}. */
  public long regionCountOnStore(long storeId) {
    lock.readLock().lock();
    try {
      return regions.countOnStore(storeId);
    } finally {
      lock.readLock().unlock();
    }
  }

  public int regionCount() {
    lock.readLock().lock();
    try {
      return regions.size();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The whole state, for a Raft snapshot. */
  public PdStateSnapshot toSnapshot() {
    lock.readLock().lock();
    try {
      return PdStateSnapshot.newBuilder()
          .setFormat(PdStateMachine.SNAPSHOT_FORMAT)
          .setCluster(clusterRecord())
          .addAllStores(stores.values())
          .addAllRegions(regions.inKeyOrder())
          .build();
    } finally {
      lock.readLock().unlock();
    }
  }

  // ------------------------------------------------------------------ writes (PdStateMachine only)

  ReentrantReadWriteLock.WriteLock writeLock() {
    return lock.writeLock();
  }

  PdClusterRecord clusterRecord() {
    return PdClusterRecord.newBuilder()
        .setClusterId(clusterId)
        .setBootstrapped(bootstrapped)
        .setIdBound(idBound)
        .setTsoSavedUntilMs(tsoSavedUntilMs)
        .build();
  }

  void setCluster(PdClusterRecord record) {
    clusterId = record.getClusterId();
    bootstrapped = record.getBootstrapped();
    idBound = record.getIdBound();
    tsoSavedUntilMs = record.getTsoSavedUntilMs();
  }

  Store storeLocked(long storeId) {
    return stores.get(storeId);
  }

  Iterable<Store> storesLocked() {
    return stores.values();
  }

  void putStore(Store store) {
    stores.put(store.getId(), store);
  }

  RegionIndex regionsLocked() {
    return regions;
  }

  void clear() {
    clusterId = 0;
    bootstrapped = false;
    idBound = 0;
    tsoSavedUntilMs = 0;
    stores.clear();
    regions.clear();
  }
}
