package io.flotilla.region.server;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.AdminRequest;
import io.flotilla.engine.proto.AdminResponse;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.RaftCommand;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.SplitRequest;
import io.flotilla.engine.proto.StoreStats;
import io.flotilla.engine.raft.StateType;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.peer.Membership;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.split.SplitScan;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's periodic work with PD: store heartbeats, region heartbeats of the regions it leads
 * (PD's answer may carry an operator step, carried out by {@link OperatorSteps}), split checks and
 * stale-replica checks. Every PD call is fire-and-forget with a logged failure: PD being
 * unreachable never stops the store from serving.
 *
 * <p>Region heartbeats go out every {@code regionHeartbeatInterval}, and at once when a replica
 * becomes leader or applies a membership change. They carry the pending peers (peers the leader
 * must send a snapshot to, or is sending one) and the down peers (on stores this store has not
 * heard from for the driver's {@code nodeDeadAfterMs}, or never: {@link RaftDriver#nodeAlive}).
 * PD hands a leader transfer only to a voter that is neither.
 *
 * <p>Store heartbeats carry region and leader counts, the snapshots being sent and received, disk
 * capacity and free space of the data dir's file system, the RocksDB size (SST files and
 * memtables of every column family) as used bytes, and the bytes and keys written by the regions
 * this store led since the previous store heartbeat (as their region heartbeats reported them).
 *
 * <p>Stale replicas (removed from their region while they did not hear of it, e.g. while the store
 * was down): every {@code 3 x regionHeartbeatInterval} (at least 1 s) the store asks PD about each
 * replica that has no leader or is uninitialized, and about every non-leader replica on the first
 * round after start and every tenth round after; PD listing the region with a newer conf_ver and
 * without this peer means it was removed, and the replica is garbage-collected
 * ({@link Store#gcReplica}). An uninitialized replica is only judged once it is older than the
 * check interval times three, so one created for a peer being added is not taken for stale before
 * PD heard of the addition.
 *
 * <p>Split: a leader keeps an approximate size and key count per region (a scan when unknown: at
 * load, first leadership, after a split or a range delete; then applied writes are added). Past
 * {@code splitSize} or {@code splitKeys} it picks the key in the middle of the bytes, asks PD for
 * the new region's id and peer ids, and proposes {@code AdminRequest.Split} with the epoch it saw.
 * Once applied it reports both halves to PD and sends their region heartbeats at once. A failed
 * attempt is retried at the next check.
 *
 * <p>Threads: the store's task executor.
 */
final class StoreTasks {
  private static final Logger LOG = LoggerFactory.getLogger(StoreTasks.class);
  static final long START_MS = System.currentTimeMillis();

  private final Store store;
  private final PdClient pd;
  private final StoreConfig config;
  private final ScheduledExecutorService timers;
  private final OperatorSteps steps;
  private final AtomicLong bytesWrittenLed = new AtomicLong();
  private final AtomicLong keysWrittenLed = new AtomicLong();
  private long staleRound;

  StoreTasks(Store store, PdClient pd, StoreConfig config, ScheduledExecutorService timers) {
    this.store = store;
    this.pd = pd;
    this.config = config;
    this.timers = timers;
    this.steps = new OperatorSteps(store, this, timers);
  }

  void start() {
    every(config.storeHeartbeatInterval().toMillis(), this::storeHeartbeat);
    every(config.regionHeartbeatInterval().toMillis(), this::regionHeartbeats);
    every(config.splitCheckInterval().toMillis(), this::splitCheck);
    every(0, staleCheckMs(), this::staleCheck);
  }

  long staleCheckMs() {
    return Math.max(1_000, 3 * config.regionHeartbeatInterval().toMillis());
  }

  private void every(long ms, Runnable r) {
    every(ms, ms, r);
  }

  private void every(long firstMs, long ms, Runnable r) {
    timers.scheduleWithFixedDelay(() -> {
      try {
        r.run();
      } catch (RuntimeException e) {
        if (!store.isClosed()) {
          LOG.warn("store {}: periodic task failed: {}", store.storeId(), e.toString(), e);
        }
      }
    }, firstMs, ms, TimeUnit.MILLISECONDS);
  }

  private void storeHeartbeat() {
    int regions = 0;
    int leaders = 0;
    for (RegionPeer p : store.peers()) {
      if (p.initialized() && p.state() == RegionPeer.State.NORMAL) {
        regions++;
        if (store.isLeader(p.regionId())) {
          leaders++;
        }
      }
    }
    pd.storeHeartbeat(storeStats(regions, leaders)).whenComplete((v, ex) -> logFailure("store heartbeat", ex));
  }

  StoreStats storeStats(int regions, int leaders) {
    StoreStats.Builder s = StoreStats.newBuilder().setStoreId(store.storeId()).setRegionCount(regions)
        .setLeaderCount(leaders).setSendingSnapshots(store.driver().sendingSnapshots())
        .setReceivingSnapshots(store.receivingSnapshots()).setUsedBytes(usedBytes())
        .setBytesWritten(bytesWrittenLed.getAndSet(0)).setKeysWritten(keysWrittenLed.getAndSet(0));
    try {
      FileStore fs = Files.getFileStore(config.dataDir());
      s.setCapacityBytes(fs.getTotalSpace()).setAvailableBytes(fs.getUsableSpace());
    } catch (IOException e) {
      LOG.debug("cannot read disk space of {}: {}", config.dataDir(), e.toString());
    }
    return s.build();
  }

  private long usedBytes() {
    try {
      return store.storage().usedBytes();
    } catch (IllegalStateException e) {
      LOG.debug("cannot read the storage size: {}", e.toString());
      return 0;
    }
  }

  /** Sends {@code p}'s region heartbeat soon, off the caller's thread (e.g. a new leader's). */
  void regionHeartbeatSoon(RegionPeer p) {
    if (store.isClosed()) {
      return;
    }
    try {
      timers.execute(() -> regionHeartbeat(p));
    } catch (RejectedExecutionException e) {
      // The store is closing.
    }
  }

  private void regionHeartbeats() {
    for (RegionPeer p : store.peers()) {
      if (p.initialized() && store.isLeader(p.regionId())) {
        regionHeartbeat(p);
      }
    }
  }

  /** Reports a region this store leads to PD (no-op if it does not lead it). */
  void regionHeartbeat(RegionPeer p) {
    Region r = p.region();
    RaftDriver.GroupInfo info = store.driver().info(p.regionId());
    if (r == null || info == null || !store.isLeader(p.regionId())) {
      return;
    }
    store.driver().pendingPeers(p.regionId()).whenComplete((pending, ex) -> {
      if (ex != null) {
        return; // the group went away
      }
      Region now = p.region();
      Peer leader = p.peer(p.peerId());
      long[] written = p.takeWritten();
      bytesWrittenLed.addAndGet(written[0]);
      keysWrittenLed.addAndGet(written[1]);
      RegionHeartbeatRequest.Builder req = RegionHeartbeatRequest.newBuilder().setRegion(now)
          .setApproximateSize(Math.max(0, p.approximateSize())).setApproximateKeys(Math.max(0, p.approximateKeys()))
          .setBytesWritten(written[0]).setKeysWritten(written[1]).setTerm(info.term());
      if (leader != null) {
        req.setLeader(leader);
      }
      for (long id : pending) {
        Peer pp = p.peer(id);
        if (pp != null) {
          req.addPendingPeers(pp);
        }
      }
      // Down: on a store this store has not heard from lately (PD hands leadership to none of them).
      for (Peer pp : now.getPeersList()) {
        if (pp.getId() != p.peerId() && !store.driver().nodeAlive(pp.getStoreId())) {
          req.addDownPeers(pp);
        }
      }
      pd.regionHeartbeat(req.build()).whenComplete((resp, ex2) -> {
        logFailure("region heartbeat " + r.getId(), ex2);
        if (resp != null && resp.getOperatorId() != 0) {
          steps.onStep(p, resp);
        }
      });
    });
  }

  private void splitCheck() {
    for (RegionPeer p : store.peers()) {
      Region r = p.region();
      if (r == null || !store.isLeader(p.regionId())) {
        continue;
      }
      if (p.approximateSize() < 0) {
        SplitScan.Result res = SplitScan.scan(store.storage().reader(), r);
        p.setApproximate(res.bytes(), res.keys());
      }
      boolean over = p.approximateSize() > config.splitSize() || p.approximateKeys() > config.splitKeys();
      if (over && p.splitProposedAtVersion() != r.getEpoch().getVersion()) {
        trySplit(p, r);
      }
    }
  }

  private void trySplit(RegionPeer p, Region r) {
    SplitScan.Result res = SplitScan.scan(store.storage().reader(), r);
    p.setApproximate(res.bytes(), res.keys());
    if (res.middleKey() == null
        || !(res.bytes() > config.splitSize() || res.keys() > config.splitKeys())) {
      return;
    }
    LOG.info("{} is over the split thresholds ({} bytes, {} keys): asking PD to split it", p, res.bytes(), res.keys());
    proposeSplit(p, r, res.middleKey());
  }

  /**
   * Asks PD for the new ids and proposes splitting {@code r} at {@code splitKey} (strictly inside
   * it); once applied, reports both halves. At most one split per region version is in flight.
   */
  void proposeSplit(RegionPeer p, Region r, byte[] splitKey) {
    if (p.splitProposedAtVersion() == r.getEpoch().getVersion()) {
      return;
    }
    byte[] key = splitKey;
    p.markSplitProposed(r.getEpoch().getVersion());
    pd.askSplit(r).thenCompose(ask -> {
      RaftCommand cmd = RaftCommand.newBuilder()
          .setContext(RequestContext.newBuilder().setRegionId(r.getId()).setEpoch(r.getEpoch()))
          .setAdmin(AdminRequest.newBuilder().setSplit(SplitRequest.newBuilder()
              .setSplitKey(com.google.protobuf.ByteString.copyFrom(key))
              .setNewRegionId(ask.getNewRegionId()).addAllNewPeerIds(ask.getNewPeerIdsList())))
          .build();
      return store.driver().propose(r.getId(), cmd.toByteArray(), AdminResponse.class);
    }).whenComplete((res2, ex) -> {
      if (ex != null) {
        p.markSplitProposed(-1);
        LOG.warn("{} split failed, will retry: {}", p, ex.toString());
        return;
      }
      AdminResponse resp = res2;
      if (resp.hasError() || resp.getRegionsCount() != 2) {
        p.markSplitProposed(-1);
        LOG.warn("{} split refused at apply: {}", p, resp.getError().getMessage());
        return;
      }
      onSplit(resp.getRegions(0), resp.getRegions(1));
    });
  }

  private void onSplit(Region left, Region right) {
    pd.reportSplit(left, right).whenComplete((v, ex) -> logFailure("split report of region " + left.getId(), ex));
    RegionPeer l = store.peer(left.getId());
    if (l != null) {
      regionHeartbeat(l);
    }
    // The new region's group has just campaigned: report it once it leads.
    timers.schedule(() -> {
      RegionPeer c = store.peer(right.getId());
      if (c != null) {
        regionHeartbeat(c);
      }
    }, Math.max(1, config.driver().tickIntervalMs() * config.driver().electionTick()), TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------ stale replicas

  private void staleCheck() {
    boolean all = staleRound++ % 10 == 0;
    long youngNanos = TimeUnit.MILLISECONDS.toNanos(3 * staleCheckMs());
    for (RegionPeer p : store.peers()) {
      if (p.state() != RegionPeer.State.NORMAL) {
        continue;
      }
      RaftDriver.GroupInfo info = store.driver().info(p.regionId());
      if (info == null || info.role() == StateType.LEADER) {
        continue;
      }
      if (!p.initialized() && System.nanoTime() - p.createdNanos() < youngNanos) {
        continue;
      }
      if (all || info.leaderPeer() == 0 || !p.initialized()) {
        checkStale(p);
      }
    }
  }

  /** Asks PD whether {@code p} is still a member of its region; garbage-collects it if not. */
  void checkStale(RegionPeer p) {
    Region mine = p.region();
    long myConfVer = mine == null ? 0 : mine.getEpoch().getConfVer();
    pd.getRegionById(p.regionId()).whenComplete((info, ex) -> {
      if (ex != null || info == null || info.isEmpty()) {
        logFailure("stale check of region " + p.regionId(), ex);
        return;
      }
      Region theirs = info.get().getRegion();
      if (Membership.peer(theirs, p.peerId()) != null || theirs.getEpoch().getConfVer() <= myConfVer) {
        return;
      }
      store.gcReplica(p, "PD lists region " + theirs.getId() + " at conf_ver " + theirs.getEpoch().getConfVer()
          + " (this replica has " + myConfVer + ") without peer " + p.peerId());
    });
  }

  private void logFailure(String what, Throwable ex) {
    if (ex != null && !store.isClosed()) {
      LOG.debug("store {}: {} to PD failed: {}", store.storeId(), what, ex.toString());
    }
  }
}
