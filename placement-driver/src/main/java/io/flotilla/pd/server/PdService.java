package io.flotilla.pd.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.flotilla.engine.Timestamps;
import io.flotilla.engine.client.PdMethods;
import io.flotilla.engine.proto.AllocIdsRequest;
import io.flotilla.engine.proto.AllocIdsResponse;
import io.flotilla.engine.proto.AskSplitRequest;
import io.flotilla.engine.proto.AskSplitResponse;
import io.flotilla.engine.proto.BootstrapRequest;
import io.flotilla.engine.proto.BootstrapResponse;
import io.flotilla.engine.proto.GetMembersRequest;
import io.flotilla.engine.proto.GetMembersResponse;
import io.flotilla.engine.proto.GetRegionByIdRequest;
import io.flotilla.engine.proto.GetRegionRequest;
import io.flotilla.engine.proto.GetRegionResponse;
import io.flotilla.engine.proto.GetStoreRequest;
import io.flotilla.engine.proto.GetStoreResponse;
import io.flotilla.engine.proto.GetStoresRequest;
import io.flotilla.engine.proto.GetStoresResponse;
import io.flotilla.engine.proto.IsBootstrappedRequest;
import io.flotilla.engine.proto.IsBootstrappedResponse;
import io.flotilla.engine.proto.Member;
import io.flotilla.engine.proto.PdError;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PutStoreRequest;
import io.flotilla.engine.proto.PutStoreResponse;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.ReportSplitRequest;
import io.flotilla.engine.proto.ReportSplitResponse;
import io.flotilla.engine.proto.ScanRegionsRequest;
import io.flotilla.engine.proto.ScanRegionsResponse;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreHeartbeatRequest;
import io.flotilla.engine.proto.StoreHeartbeatResponse;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;
import io.flotilla.engine.proto.TsoRequest;
import io.flotilla.engine.proto.TsoResponse;
import io.flotilla.engine.proto.pdinternal.BootstrapCluster;
import io.flotilla.engine.proto.pdinternal.InitCluster;
import io.flotilla.engine.proto.pdinternal.PdCommand;
import io.flotilla.engine.proto.pdinternal.PdRegionRecord;
import io.flotilla.engine.proto.pdinternal.PutRegionCommand;
import io.flotilla.engine.proto.pdinternal.PutStoreCommand;
import io.flotilla.engine.proto.pdinternal.ReserveIds;
import io.flotilla.engine.proto.pdinternal.SaveTsoWindow;
import io.flotilla.engine.proto.pdinternal.SplitRegionCommand;
import io.flotilla.engine.raft.StateType;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.pd.meta.ApplyResult;
import io.flotilla.pd.meta.MetaState;
import io.flotilla.pd.meta.PdStateMachine;
import io.flotilla.region.driver.DroppedException;
import io.flotilla.region.driver.NotLeaderException;
import io.flotilla.region.driver.OutcomeUnknownException;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.pd.operator.OperatorController;
import io.flotilla.pd.operator.OperatorSettings;
import io.flotilla.pd.operator.RegionView;
import io.flotilla.pd.schedule.ClusterSnapshot;
import io.flotilla.pd.schedule.Coordinator;
import io.flotilla.pd.schedule.StoreView;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PD's RPCs ({@code pd.proto}) on one member.
 *
 * <p>Only the leader answers, except {@code pd.get_members}, which any member answers (it is how a
 * client finds the leader); a follower answers NOT_LEADER with the leader's address. Reads of
 * metadata are linearizable: they wait for a read-index barrier of PD's group (a quorum confirms
 * this member still leads, and it has applied everything committed before the read arrived), then
 * read the applied state. Changes of replicated metadata are proposed and answered once applied.
 * Store and region statistics and heartbeat times are the leader's own memory ({@link
 * LeaderRuntime}), updated without Raft. The admin RPCs are {@link PdAdmin}'s; the answer to a region
 * heartbeat carries the region's current operator step ({@link Coordinator}, leader memory only).
 * Timestamps come from the leader's {@link TsoAllocator}, after a read barrier.
 *
 * <p>Threads: handlers run on transport event loops and never block; barrier and proposal results
 * are continued on {@code executor}.
 */
final class PdService {
  private static final Logger LOG = LoggerFactory.getLogger(PdService.class);
  private static final long GROUP = PdStateMachine.GROUP_ID;
  static final int MAX_ALLOC = 1_000_000;
  /** How far ahead of its clock the TSO leader saves its window (TiKV's PD: 3 s). */
  static final long TSO_WINDOW_MS = 3_000;

  private final long memberId;
  private final RaftDriver driver;
  private final MetaState state;
  private final PdConfig config;
  private final Map<Long, String> members;
  private final Executor executor;
  private final LeaderRuntime runtime = new LeaderRuntime();
  private final IdAllocator ids;
  private final TsoAllocator tso;
  private final Coordinator coordinator;
  private final PdAdmin admin;
  /** The cluster id proposal in flight, if any; touched only by the maintenance thread. */
  private CompletableFuture<Object> clusterInit;
  /** Maintenance thread only: whether this member led at the last look, and the last round. */
  private boolean leading;
  private long lastRoundMs;

  PdService(long memberId, RaftDriver driver, MetaState state, PdConfig config, Map<Long, String> members,
      Executor executor) {
    this.memberId = memberId;
    this.driver = driver;
    this.state = state;
    this.config = config;
    this.members = members;
    this.executor = executor;
    this.ids = new IdAllocator(config.idBatchSize(), count -> {
      try {
        return propose(PdCommand.newBuilder().setReserveIds(ReserveIds.newBuilder().setCount(count)).build())
            .thenApply(ApplyResult::value);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    });
    this.tso = new TsoAllocator(TSO_WINDOW_MS, System::currentTimeMillis, untilMs -> {
      try {
        return propose(PdCommand.newBuilder().setSaveTsoWindow(SaveTsoWindow.newBuilder().setUntilMs(untilMs)).build())
            .thenApply(ApplyResult::value);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    });
    this.coordinator = new Coordinator(new OperatorController(new OperatorSettings()), config.maxStoreDownTimeMs());
    this.admin = new PdAdmin(this, state, runtime, coordinator, ids, executor);
  }

  void register(RaftTransport t) {
    serve(t, PdMethods.GET_MEMBERS, GetMembersRequest.parser(),
        e -> GetMembersResponse.newBuilder().setError(e).build(), this::getMembers);
    serve(t, PdMethods.BOOTSTRAP, BootstrapRequest.parser(),
        e -> BootstrapResponse.newBuilder().setError(e).build(), this::bootstrap);
    serve(t, PdMethods.IS_BOOTSTRAPPED, IsBootstrappedRequest.parser(),
        e -> IsBootstrappedResponse.newBuilder().setError(e).build(),
        r -> read(() -> IsBootstrappedResponse.newBuilder().setBootstrapped(state.isBootstrapped()).build()));
    serve(t, PdMethods.ALLOC_IDS, AllocIdsRequest.parser(),
        e -> AllocIdsResponse.newBuilder().setError(e).build(), this::allocIds);
    serve(t, PdMethods.PUT_STORE, PutStoreRequest.parser(),
        e -> PutStoreResponse.newBuilder().setError(e).build(), this::putStore);
    serve(t, PdMethods.GET_STORE, GetStoreRequest.parser(),
        e -> GetStoreResponse.newBuilder().setError(e).build(), this::getStore);
    serve(t, PdMethods.GET_STORES, GetStoresRequest.parser(),
        e -> GetStoresResponse.newBuilder().setError(e).build(), this::getStores);
    serve(t, PdMethods.STORE_HEARTBEAT, StoreHeartbeatRequest.parser(),
        e -> StoreHeartbeatResponse.newBuilder().setError(e).build(), this::storeHeartbeat);
    serve(t, PdMethods.REGION_HEARTBEAT, RegionHeartbeatRequest.parser(),
        e -> RegionHeartbeatResponse.newBuilder().setError(e).build(), this::regionHeartbeat);
    serve(t, PdMethods.GET_REGION, GetRegionRequest.parser(),
        e -> GetRegionResponse.newBuilder().setError(e).build(),
        r -> read(() -> regionResponse(state.regionByKey(r.getKey().toByteArray()), "no region holds the key")));
    serve(t, PdMethods.GET_REGION_BY_ID, GetRegionByIdRequest.parser(),
        e -> GetRegionResponse.newBuilder().setError(e).build(),
        r -> read(() -> regionResponse(state.regionById(r.getRegionId()), "no region " + r.getRegionId())));
    serve(t, PdMethods.SCAN_REGIONS, ScanRegionsRequest.parser(),
        e -> ScanRegionsResponse.newBuilder().setError(e).build(), this::scanRegions);
    serve(t, PdMethods.ASK_SPLIT, AskSplitRequest.parser(),
        e -> AskSplitResponse.newBuilder().setError(e).build(), this::askSplit);
    serve(t, PdMethods.REPORT_SPLIT, ReportSplitRequest.parser(),
        e -> ReportSplitResponse.newBuilder().setError(e).build(), this::reportSplit);
    serve(t, PdMethods.TSO, TsoRequest.parser(), e -> TsoResponse.newBuilder().setError(e).build(), this::tso);
    admin.register(t);
  }

  /**
   * Called periodically: a leader without a cluster id picks one (the first applied wins); a
   * bootstrapped leader runs a scheduling round every {@code scheduleIntervalMs}. A member that
   * stops leading drops its operators.
   */
  void maintain(long nowMs, long randomClusterId) {
    RaftDriver.GroupInfo info = driver.info(GROUP);
    if (info == null || info.role() != StateType.LEADER) {
      if (leading) {
        leading = false;
        coordinator.reset("PD member " + memberId + " stopped leading");
      }
      return;
    }
    leading = true;
    onLeading(info, nowMs);
    if (state.clusterId() == 0 && (clusterInit == null || clusterInit.isDone())) {
      clusterInit = driver.propose(GROUP, PdCommand.newBuilder()
          .setInitCluster(InitCluster.newBuilder().setClusterId(randomClusterId)).build().toByteArray());
    }
    if (state.isBootstrapped() && nowMs - lastRoundMs >= config.scheduleIntervalMs()) {
      lastRoundMs = nowMs;
      coordinator.runRound(clusterSnapshot(nowMs), this::nextId, runtime.reportedSnapshots(),
          storeId -> admin.tombstone(storeId));
    }
  }

  /**
   * A new leader term forgets the leader's memory (statistics, operators, cool-downs) and saves
   * the TSO's first window of the term, so the first timestamp request finds it ready.
   */
  private void onLeading(RaftDriver.GroupInfo info, long nowMs) {
    if (runtime.onTerm(info.term(), nowMs)) {
      coordinator.reset("PD member " + memberId + " leads in a new term " + info.term());
      if (state.clusterId() != 0) {
        try {
          tso.prepare(info.term());
        } catch (TsoAllocator.StaleTermException e) {
          // NB: a request already saw a later term; that one's window is being saved.
        }
      }
    }
  }

  /** A fresh id for a scheduler; blocks the scheduling thread if the leader must reserve more. */
  private long nextId() {
    try {
      return ids.alloc(1).get(config.requestTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while allocating an id", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("allocating an id failed: " + e, e);
    }
  }

  /** The stores and regions as applied here, with the leader's statistics. */
  ClusterSnapshot clusterSnapshot(long nowMs) {
    List<StoreView> stores = new ArrayList<>();
    for (Store s : state.stores()) {
      stores.add(runtime.storeView(s, nowMs));
    }
    List<RegionView> regions = new ArrayList<>();
    for (PdRegionRecord r : state.regions()) {
      regions.add(runtime.regionView(r));
    }
    return new ClusterSnapshot(nowMs, stores, regions);
  }

  // ------------------------------------------------------------------ handlers

  private CompletableFuture<GetMembersResponse> getMembers(GetMembersRequest req) {
    GetMembersResponse.Builder b = GetMembersResponse.newBuilder().setClusterId(state.clusterId());
    members.forEach((id, address) -> b.addMembers(Member.newBuilder().setId(id).setAddress(address)));
    RaftDriver.GroupInfo info = driver.info(GROUP);
    long lead = info == null ? 0 : info.leaderPeer();
    if (lead != 0 && members.containsKey(lead)) {
      b.setLeader(Member.newBuilder().setId(lead).setAddress(members.get(lead)));
    }
    return CompletableFuture.completedFuture(b.build());
  }

  private CompletableFuture<BootstrapResponse> bootstrap(BootstrapRequest req) {
    requireLeader();
    PdCommand cmd = PdCommand.newBuilder()
        .setBootstrap(BootstrapCluster.newBuilder().setStore(req.getStore()).setRegion(req.getRegion()))
        .build();
    return propose(cmd).thenApply(r -> {
      LOG.info("cluster {} bootstrapped by store {} at {}: first region {} with peers {} [pd member={}]",
          Long.toUnsignedString(state.clusterId()), req.getStore().getId(), req.getStore().getAddress(),
          req.getRegion().getId(), peersString(req.getRegion()), memberId);
      return BootstrapResponse.getDefaultInstance();
    });
  }

  private CompletableFuture<AllocIdsResponse> allocIds(AllocIdsRequest req) {
    int count = req.getCount();
    if (count < 1 || count > MAX_ALLOC) {
      throw new PdFailure(PdErrorType.PD_ERROR_INVALID_ARGUMENT,
          "count: must be in [1, " + MAX_ALLOC + "], got " + Integer.toUnsignedString(count));
    }
    requireLeader();
    return ids.alloc(count).thenApply(first -> AllocIdsResponse.newBuilder().setFirstId(first).setCount(count).build());
  }

  /**
   * Timestamps, after a read barrier: the barrier confirms (a quorum answered) that this member
   * still leads in the term it then reports, after the request arrived; the allocator hands out
   * only from windows saved in that term. A deposed leader's barrier fails: NOT_LEADER.
   */
  private CompletableFuture<TsoResponse> tso(TsoRequest req) {
    int count = req.getCount();
    if (count < 1 || count > Timestamps.LOGICAL_LIMIT) {
      throw invalid("count: must be in [1, " + Timestamps.LOGICAL_LIMIT + "], got " + Integer.toUnsignedString(count));
    }
    requireLeader();
    return driver.readIndex(GROUP).thenComposeAsync(applied -> {
      RaftDriver.GroupInfo info = driver.info(GROUP);
      if (info == null || info.role() != StateType.LEADER) {
        throw notLeader(info == null ? 0 : info.leaderPeer());
      }
      return tso.alloc(info.term(), count);
    }, executor).thenApply(first -> TsoResponse.newBuilder().setFirst(first).setCount(count).build());
  }

  private CompletableFuture<PutStoreResponse> putStore(PutStoreRequest req) {
    Store store = req.getStore();
    if (store.getId() == 0 || store.getAddress().isEmpty()) {
      throw new PdFailure(PdErrorType.PD_ERROR_INVALID_ARGUMENT, "store: needs an id and an address, got "
          + store.getId() + " at '" + store.getAddress() + "'");
    }
    requireLeader();
    Optional<Store> before = state.store(store.getId());
    return propose(PdCommand.newBuilder().setPutStore(PutStoreCommand.newBuilder().setStore(store)).build())
        .thenApply(r -> {
          LOG.info("store {} {} at {} [version={} labels={} pd member={}]", store.getId(),
              before.isPresent() ? "re-registered" : "registered", store.getAddress(), store.getVersion(),
              store.getLabelsMap(), memberId);
          return PutStoreResponse.newBuilder().setClusterId(state.clusterId()).build();
        });
  }

  private CompletableFuture<GetStoreResponse> getStore(GetStoreRequest req) {
    long id = req.getStoreId();
    return read(() -> {
      Store s = state.store(id).orElseThrow(() -> storeNotFound(id));
      return GetStoreResponse.newBuilder()
          .setStore(runtime.storeInfo(s, System.currentTimeMillis(), coordinator.maxStoreDownTimeMs()))
          .build();
    });
  }

  private CompletableFuture<GetStoresResponse> getStores(GetStoresRequest req) {
    return read(() -> {
      long now = System.currentTimeMillis();
      GetStoresResponse.Builder b = GetStoresResponse.newBuilder();
      for (Store s : state.stores()) {
        if (!req.getExcludeTombstones() || s.getState() != StoreState.STORE_STATE_TOMBSTONE) {
          b.addStores(runtime.storeInfo(s, now, coordinator.maxStoreDownTimeMs()));
        }
      }
      return b.build();
    });
  }

  private CompletableFuture<StoreHeartbeatResponse> storeHeartbeat(StoreHeartbeatRequest req) {
    requireLeader();
    StoreStats stats = req.getStats();
    Optional<Store> known = state.store(stats.getStoreId());
    if (known.isPresent()) {
      return CompletableFuture.completedFuture(takeStoreHeartbeat(known.get(), stats));
    }
    // Maybe registered but not applied here yet: look again after a barrier.
    return read(() -> takeStoreHeartbeat(
        state.store(stats.getStoreId()).orElseThrow(() -> storeNotFound(stats.getStoreId())), stats));
  }

  private StoreHeartbeatResponse takeStoreHeartbeat(Store store, StoreStats stats) {
    if (store.getState() == StoreState.STORE_STATE_TOMBSTONE) {
      throw new PdFailure(PdErrorType.PD_ERROR_STORE_TOMBSTONE, "store " + store.getId() + " is a tombstone");
    }
    runtime.storeHeartbeat(stats, System.currentTimeMillis());
    return StoreHeartbeatResponse.getDefaultInstance();
  }

  private CompletableFuture<RegionHeartbeatResponse> regionHeartbeat(RegionHeartbeatRequest req) {
    Region region = req.getRegion();
    checkRegion("region", region);
    if (req.hasLeader() && !hasPeer(region, req.getLeader().getId())) {
      throw invalid("leader: peer " + req.getLeader().getId() + " is not a peer of region " + region.getId());
    }
    requireLeader();
    if (!state.isBootstrapped()) {
      throw new PdFailure(PdErrorType.PD_ERROR_NOT_BOOTSTRAPPED, "the cluster is not bootstrapped");
    }
    runtime.regionHeartbeat(req);
    PdRegionRecord held = state.regionById(region.getId()).orElse(null);
    RegionHeartbeatResponse ok = isStale(held, region)
        ? RegionHeartbeatResponse.newBuilder().setRegionId(region.getId()).build()
        : coordinator.controller().dispatch(heartbeatView(req), System.currentTimeMillis());
    if (!changesMeta(held, req)) {
      return CompletableFuture.completedFuture(ok);
    }
    PdRegionRecord.Builder record = PdRegionRecord.newBuilder().setRegion(region).setLeaderTerm(req.getTerm());
    if (req.hasLeader()) {
      record.setLeader(req.getLeader());
    }
    return propose(PdCommand.newBuilder().setPutRegion(PutRegionCommand.newBuilder().setRegion(record)).build())
        .thenApply(r -> ok);
  }

  private static boolean isStale(PdRegionRecord held, Region r) {
    if (held == null) {
      return false;
    }
    Region h = held.getRegion();
    return r.getEpoch().getVersion() < h.getEpoch().getVersion() || r.getEpoch().getConfVer() < h.getEpoch().getConfVer();
  }

  private static RegionView heartbeatView(RegionHeartbeatRequest req) {
    Set<Long> pending = new HashSet<>();
    req.getPendingPeersList().forEach(p -> pending.add(p.getId()));
    Set<Long> down = new HashSet<>();
    req.getDownPeersList().forEach(p -> down.add(p.getId()));
    return new RegionView(req.getRegion(), req.hasLeader() ? req.getLeader() : null, pending, down,
        req.getApproximateSize());
  }

  /** Whether a heartbeat brings a change PD replicates: range, epoch, peers or (newer) leader. */
  private static boolean changesMeta(PdRegionRecord held, RegionHeartbeatRequest req) {
    if (held == null) {
      return true;
    }
    Region h = held.getRegion();
    Region r = req.getRegion();
    if (r.getEpoch().getVersion() < h.getEpoch().getVersion() || r.getEpoch().getConfVer() < h.getEpoch().getConfVer()) {
      return false; // stale: the state machine would ignore it anyway
    }
    if (!h.equals(r)) {
      return true;
    }
    return req.hasLeader() && req.getTerm() >= held.getLeaderTerm()
        && (!held.hasLeader() || held.getLeader().getId() != req.getLeader().getId());
  }

  private CompletableFuture<ScanRegionsResponse> scanRegions(ScanRegionsRequest req) {
    byte[] start = req.getStartKey().toByteArray();
    byte[] end = req.getEndKey().toByteArray();
    int limit = req.getLimit() < 0 ? Integer.MAX_VALUE : req.getLimit();
    return read(() -> {
      requireBootstrapped();
      ScanRegionsResponse.Builder b = ScanRegionsResponse.newBuilder();
      for (PdRegionRecord r : state.scanRegions(start, end, limit)) {
        b.addRegions(runtime.regionInfo(r));
      }
      return b.build();
    });
  }

  private CompletableFuture<AskSplitResponse> askSplit(AskSplitRequest req) {
    Region region = req.getRegion();
    if (region.getId() == 0 || region.getPeersCount() == 0) {
      throw invalid("region: needs an id and peers");
    }
    return read(() -> {
      requireBootstrapped();
      state.regionById(region.getId()).orElseThrow(() -> new PdFailure(PdErrorType.PD_ERROR_REGION_NOT_FOUND,
          "no region " + region.getId()));
      return region.getPeersCount();
    }).thenCompose(peers -> ids.alloc(1 + peers).thenApply(first -> {
      AskSplitResponse.Builder b = AskSplitResponse.newBuilder().setNewRegionId(first);
      for (int i = 1; i <= peers; i++) {
        b.addNewPeerIds(first + i);
      }
      return b.build();
    }));
  }

  private CompletableFuture<ReportSplitResponse> reportSplit(ReportSplitRequest req) {
    Region left = req.getLeft();
    Region right = req.getRight();
    checkRegion("left", left);
    checkRegion("right", right);
    if (left.getId() == right.getId()) {
      throw invalid("left and right: must be different regions, both are " + left.getId());
    }
    if (right.getStartKey().isEmpty() || !left.getEndKey().equals(right.getStartKey())) {
      throw invalid("left.end_key and right.start_key: must be the same non-empty split key");
    }
    requireLeader();
    requireBootstrapped();
    PdCommand cmd = PdCommand.newBuilder()
        .setSplitRegion(SplitRegionCommand.newBuilder().setLeft(left).setRight(right)).build();
    return propose(cmd).thenApply(r -> {
      long taken = r.value();
      LOG.info("split reported at key {}: region {} {} and region {} {}{} [pd member={}]", keyString(left.getEndKey()),
          left.getId(), epochString(left), right.getId(), epochString(right),
          taken == 3 ? "" : taken == 0 ? " (stale: both ignored)" : (taken == 1 ? " (stale right ignored)" : " (stale left ignored)"),
          memberId);
      return ReportSplitResponse.getDefaultInstance();
    });
  }

  // ------------------------------------------------------------------ helpers

  private GetRegionResponse regionResponse(Optional<PdRegionRecord> record, String notFound) {
    requireBootstrapped();
    PdRegionRecord r = record.orElseThrow(() -> new PdFailure(PdErrorType.PD_ERROR_REGION_NOT_FOUND, notFound));
    return GetRegionResponse.newBuilder().setRegion(runtime.regionInfo(r)).build();
  }

  /** Throws NOT_LEADER unless this member leads; UNAVAILABLE while it has no cluster id yet. */
  void requireLeader() {
    RaftDriver.GroupInfo info = driver.info(GROUP);
    if (info == null || info.role() != StateType.LEADER) {
      throw notLeader(info == null ? 0 : info.leaderPeer());
    }
    onLeading(info, System.currentTimeMillis());
    if (state.clusterId() == 0) {
      throw new PdFailure(PdErrorType.PD_ERROR_UNAVAILABLE,
          "PD member " + memberId + " leads but has not applied the cluster id yet; retry");
    }
  }

  void requireBootstrapped() {
    if (!state.isBootstrapped()) {
      throw new PdFailure(PdErrorType.PD_ERROR_NOT_BOOTSTRAPPED, "the cluster is not bootstrapped");
    }
  }

  /** Runs {@code body} on the leader's applied state after a read-index barrier: linearizable. */
  <R> CompletableFuture<R> read(Supplier<R> body) {
    requireLeader();
    return driver.readIndex(GROUP).thenApplyAsync(applied -> body.get(), executor);
  }

  /** Proposes {@code cmd}; completes once applied, failing with the state machine's error if any. */
  CompletableFuture<ApplyResult> propose(PdCommand cmd) {
    requireLeader();
    return driver.propose(GROUP, cmd.toByteArray(), ApplyResult.class).thenApplyAsync(a -> {
      if (!a.isOk()) {
        throw new PdFailure(a.error(), a.message());
      }
      return a;
    }, executor);
  }

  private PdFailure notLeader(long leaderPeer) {
    String address = leaderPeer != 0 && leaderPeer != memberId ? members.getOrDefault(leaderPeer, "") : "";
    return new PdFailure(PdError.newBuilder()
        .setType(PdErrorType.PD_ERROR_NOT_LEADER)
        .setMessage("PD member " + memberId + " does not lead" + (address.isEmpty() ? "; leader unknown"
            : "; member " + leaderPeer + " at " + address + " does"))
        .setLeaderAddress(address)
        .build());
  }

  static PdFailure storeNotFound(long storeId) {
    return new PdFailure(PdErrorType.PD_ERROR_STORE_NOT_FOUND, "no store " + storeId);
  }

  static PdFailure invalid(String message) {
    return new PdFailure(PdErrorType.PD_ERROR_INVALID_ARGUMENT, message);
  }

  private static void checkRegion(String name, Region region) {
    if (region.getId() == 0 || !region.hasEpoch() || region.getPeersCount() == 0) {
      throw invalid(name + ": needs an id, an epoch and peers, got " + region);
    }
    if (!region.getEndKey().isEmpty()
        && ByteString.unsignedLexicographicalComparator().compare(region.getStartKey(), region.getEndKey()) >= 0) {
      throw invalid(name + ": start_key must be before end_key");
    }
  }

  private static boolean hasPeer(Region region, long peerId) {
    for (Peer p : region.getPeersList()) {
      if (p.getId() == peerId) {
        return true;
      }
    }
    return false;
  }

  <Q> void serve(RaftTransport t, String method, Parser<Q> parser, Function<PdError, MessageLite> onError,
      Function<Q, CompletableFuture<? extends MessageLite>> handler) {
    t.registerRpc(method, bytes -> {
      CompletableFuture<? extends MessageLite> f;
      try {
        f = handler.apply(parser.parseFrom(bytes));
      } catch (InvalidProtocolBufferException e) {
        f = CompletableFuture.failedFuture(invalid(method + ": the request does not parse"));
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      return f.handle((resp, ex) -> (ex == null ? resp : onError.apply(toError(method, ex))).toByteArray());
    });
  }

  private PdError toError(String method, Throwable ex) {
    Throwable c = ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
    if (c instanceof PdFailure f) {
      return f.error();
    }
    if (c instanceof NotLeaderException nle) {
      return notLeader(nle.leaderNode()).error();
    }
    boolean retryable = c instanceof DroppedException || c instanceof OutcomeUnknownException
        || c instanceof TsoAllocator.StaleTermException;
    String message = retryable ? c.getMessage() + "; retry" : c.toString();
    if (!retryable) {
      LOG.warn("PD request {} failed [pd member={}]: {}", method, memberId, c.toString(), c);
    }
    return PdError.newBuilder().setType(PdErrorType.PD_ERROR_UNAVAILABLE).setMessage(message).build();
  }

  private static String peersString(Region region) {
    StringBuilder sb = new StringBuilder("[");
    for (Peer p : region.getPeersList()) {
      sb.append(sb.length() > 1 ? ", " : "").append(p.getId()).append("@store").append(p.getStoreId());
    }
    return sb.append(']').toString();
  }

  private static String epochString(Region r) {
    return "[" + keyString(r.getStartKey()) + ", " + keyString(r.getEndKey()) + ") v" + r.getEpoch().getVersion()
        + " c" + r.getEpoch().getConfVer();
  }

  /** A key for a log line: printable ASCII as is, other bytes as \xNN, at most 64 bytes. */
  static String keyString(ByteString key) {
    if (key.isEmpty()) {
      return "''";
    }
    StringBuilder sb = new StringBuilder("'");
    for (int i = 0; i < Math.min(key.size(), 64); i++) {
      int b = key.byteAt(i) & 0xff;
      if (b >= 0x20 && b < 0x7f && b != '\\' && b != '\'') {
        sb.append((char) b);
      } else {
        sb.append(String.format("\\x%02x", b));
      }
    }
    return sb.append(key.size() > 64 ? "...'" : "'").toString();
  }
}
