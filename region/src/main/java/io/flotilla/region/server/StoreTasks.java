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
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.split.SplitScan;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's periodic work with PD: store heartbeats, region heartbeats of the regions it leads,
 * and split checks. Every PD call is fire-and-forget with a logged failure: PD being unreachable
 * never stops the store from serving.
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

  StoreTasks(Store store, PdClient pd, StoreConfig config, ScheduledExecutorService timers) {
    this.store = store;
    this.pd = pd;
    this.config = config;
    this.timers = timers;
  }

  void start() {
    every(config.storeHeartbeatInterval().toMillis(), this::storeHeartbeat);
    every(config.regionHeartbeatInterval().toMillis(), this::regionHeartbeats);
    every(config.splitCheckInterval().toMillis(), this::splitCheck);
  }

  private void every(long ms, Runnable r) {
    timers.scheduleWithFixedDelay(() -> {
      try {
        r.run();
      } catch (RuntimeException e) {
        if (!store.isClosed()) {
          LOG.warn("store {}: periodic task failed: {}", store.storeId(), e.toString(), e);
        }
      }
    }, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void storeHeartbeat() {
    int regions = 0;
    int leaders = 0;
    for (RegionPeer p : store.peers()) {
      if (p.initialized()) {
        regions++;
        if (store.isLeader(p.regionId())) {
          leaders++;
        }
      }
    }
    StoreStats.Builder s = StoreStats.newBuilder().setStoreId(store.storeId()).setRegionCount(regions)
        .setLeaderCount(leaders);
    try {
      FileStore fs = Files.getFileStore(config.dataDir());
      s.setCapacityBytes(fs.getTotalSpace()).setAvailableBytes(fs.getUsableSpace());
    } catch (IOException e) {
      LOG.debug("cannot read disk space of {}: {}", config.dataDir(), e.toString());
    }
    pd.storeHeartbeat(s.build()).whenComplete((v, ex) -> logFailure("store heartbeat", ex));
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
    Peer leader = p.peer(p.peerId());
    long[] written = p.takeWritten();
    RegionHeartbeatRequest.Builder req = RegionHeartbeatRequest.newBuilder().setRegion(r)
        .setApproximateSize(Math.max(0, p.approximateSize())).setApproximateKeys(Math.max(0, p.approximateKeys()))
        .setBytesWritten(written[0]).setKeysWritten(written[1]).setTerm(info.term());
    if (leader != null) {
      req.setLeader(leader);
    }
    pd.regionHeartbeat(req.build()).whenComplete((v, ex) -> logFailure("region heartbeat " + r.getId(), ex));
  }

  private void splitCheck() {
    for (RegionPeer p : store.peers()) {
      Region r = p.region();
      if (r == null || !store.isLeader(p.regionId())) {
        continue;
      }
      if (p.approximateSize() < 0) {
        SplitScan.Result res = SplitScan.scan(store.storage(), r);
        p.setApproximate(res.bytes(), res.keys());
      }
      boolean over = p.approximateSize() > config.splitSize() || p.approximateKeys() > config.splitKeys();
      if (over && p.splitProposedAtVersion() != r.getEpoch().getVersion()) {
        trySplit(p, r);
      }
    }
  }

  private void trySplit(RegionPeer p, Region r) {
    SplitScan.Result res = SplitScan.scan(store.storage(), r);
    p.setApproximate(res.bytes(), res.keys());
    if (res.middleKey() == null
        || !(res.bytes() > config.splitSize() || res.keys() > config.splitKeys())) {
      return;
    }
    p.markSplitProposed(r.getEpoch().getVersion());
    LOG.info("{} is over the split thresholds ({} bytes, {} keys): asking PD to split it", p, res.bytes(), res.keys());
    pd.askSplit(r).thenCompose(ask -> {
      RaftCommand cmd = RaftCommand.newBuilder()
          .setContext(RequestContext.newBuilder().setRegionId(r.getId()).setEpoch(r.getEpoch()))
          .setAdmin(AdminRequest.newBuilder().setSplit(SplitRequest.newBuilder()
              .setSplitKey(com.google.protobuf.ByteString.copyFrom(res.middleKey()))
              .setNewRegionId(ask.getNewRegionId()).addAllNewPeerIds(ask.getNewPeerIdsList())))
          .build();
      return store.driver().propose(r.getId(), cmd.toByteArray());
    }).whenComplete((res2, ex) -> {
      if (ex != null) {
        p.markSplitProposed(-1);
        LOG.warn("{} split failed, will retry: {}", p, ex.toString());
        return;
      }
      AdminResponse resp = (AdminResponse) res2;
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

  private void logFailure(String what, Throwable ex) {
    if (ex != null && !store.isClosed()) {
      LOG.debug("store {}: {} to PD failed: {}", store.storeId(), what, ex.toString());
    }
  }
}
