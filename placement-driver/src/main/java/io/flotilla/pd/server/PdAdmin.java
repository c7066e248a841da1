package io.flotilla.pd.server;

import io.flotilla.engine.client.PdMethods;
import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.AddOperatorRequest;
import io.flotilla.engine.proto.AddOperatorResponse;
import io.flotilla.engine.proto.CancelOperatorRequest;
import io.flotilla.engine.proto.CancelOperatorResponse;
import io.flotilla.engine.proto.ListOperatorsRequest;
import io.flotilla.engine.proto.ListOperatorsResponse;
import io.flotilla.engine.proto.ListSchedulersRequest;
import io.flotilla.engine.proto.ListSchedulersResponse;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.SetSchedulerRequest;
import io.flotilla.engine.proto.SetSchedulerResponse;
import io.flotilla.engine.proto.SetStoreStateRequest;
import io.flotilla.engine.proto.SetStoreStateResponse;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.pdinternal.PdCommand;
import io.flotilla.engine.proto.pdinternal.PdRegionRecord;
import io.flotilla.engine.proto.pdinternal.SetStoreStateCommand;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.pd.meta.MetaState;
import io.flotilla.pd.operator.Operator;
import io.flotilla.pd.operator.OperatorController;
import io.flotilla.pd.operator.Operators;
import io.flotilla.pd.operator.RegionView;
import io.flotilla.pd.schedule.Coordinator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PD's admin RPCs (what {@code flotilla ctl} calls): store states, operators, schedulers. Only the
 * leader answers. Store states go through Raft ({@code SetStoreStateCommand}); operators and
 * scheduler settings are the leader's memory (see {@link Coordinator}).
 *
 * <p>Threads: handlers run on transport event loops and never block; work after a barrier or an id
 * allocation continues on the service's executor.
 */
final class PdAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(PdAdmin.class);
  static final String ORIGIN = "admin";

  public static final String SET_STORE_STATE = PdMethods.SET_STORE_STATE;
  public static final String ADD_OPERATOR = PdMethods.ADD_OPERATOR;
  public static final String LIST_OPERATORS = PdMethods.LIST_OPERATORS;
  public static final String CANCEL_OPERATOR = PdMethods.CANCEL_OPERATOR;
  public static final String LIST_SCHEDULERS = PdMethods.LIST_SCHEDULERS;
  public static final String SET_SCHEDULER = PdMethods.SET_SCHEDULER;

  private final PdService service;
  private final MetaState state;
  private final LeaderRuntime runtime;
  private final Coordinator coordinator;
  private final IdAllocator ids;
  private final Executor executor;

  PdAdmin(PdService service, MetaState state, LeaderRuntime runtime, Coordinator coordinator, IdAllocator ids,
      Executor executor) {
    this.service = service;
    this.state = state;
    this.runtime = runtime;
    this.coordinator = coordinator;
    this.ids = ids;
    this.executor = executor;
  }

  void register(RaftTransport t) {
    service.serve(t, SET_STORE_STATE, SetStoreStateRequest.parser(),
        e -> SetStoreStateResponse.newBuilder().setError(e).build(), this::setStoreState);
    service.serve(t, ADD_OPERATOR, AddOperatorRequest.parser(),
        e -> AddOperatorResponse.newBuilder().setError(e).build(), this::addOperator);
    service.serve(t, LIST_OPERATORS, ListOperatorsRequest.parser(),
        e -> ListOperatorsResponse.newBuilder().setError(e).build(), this::listOperators);
    service.serve(t, CANCEL_OPERATOR, CancelOperatorRequest.parser(),
        e -> CancelOperatorResponse.newBuilder().setError(e).build(), this::cancelOperator);
    service.serve(t, LIST_SCHEDULERS, ListSchedulersRequest.parser(),
        e -> ListSchedulersResponse.newBuilder().setError(e).build(), this::listSchedulers);
    service.serve(t, SET_SCHEDULER, SetSchedulerRequest.parser(),
        e -> SetSchedulerResponse.newBuilder().setError(e).build(), this::setScheduler);
  }

  // ------------------------------------------------------------------ stores

  private CompletableFuture<SetStoreStateResponse> setStoreState(SetStoreStateRequest req) {
    if (req.getStoreId() == 0) {
      throw PdService.invalid("store_id: required");
    }
    StoreState to = req.getState();
    if (to == StoreState.UNRECOGNIZED) {
      throw PdService.invalid("state: must be one of STORE_STATE_UP, STORE_STATE_OFFLINE, STORE_STATE_TOMBSTONE, got "
          + req.getStateValue());
    }
    service.requireLeader();
    service.requireBootstrapped();
    return proposeState(req.getStoreId(), to, req.getForce()).thenApply(r -> {
      Store s = state.store(req.getStoreId()).orElseThrow(() -> PdService.storeNotFound(req.getStoreId()));
      LOG.info("store {} set to {} by an admin{} [regions on it={}]", s.getId(), to, req.getForce() ? " (forced)" : "",
          r);
      return SetStoreStateResponse.newBuilder()
          .setStore(runtime.storeInfo(s, System.currentTimeMillis(), coordinator.maxStoreDownTimeMs()))
          .build();
    });
  }

  /** Marks a drained Offline store tombstone (from a scheduling round). */
  CompletableFuture<Long> tombstone(long storeId) {
    return proposeState(storeId, StoreState.STORE_STATE_TOMBSTONE, false);
  }

  private CompletableFuture<Long> proposeState(long storeId, StoreState to, boolean force) {
    PdCommand cmd = PdCommand.newBuilder().setSetStoreState(SetStoreStateCommand.newBuilder()
        .setStoreId(storeId).setState(to).setForce(force)).build();
    return service.propose(cmd).thenApply(r -> r.value());
  }

  // ------------------------------------------------------------------ operators

  /** A validated request: builds the operator once it has {@code idsNeeded} fresh ids. */
  private record Plan(int idsNeeded, LongFunction<Operator> build) {}

  private CompletableFuture<AddOperatorResponse> addOperator(AddOperatorRequest req) {
    if (req.getRegionId() == 0) {
      throw PdService.invalid("region_id: required");
    }
    service.requireLeader();
    return service.read(() -> plan(req))
        .thenCompose(plan -> ids.alloc(plan.idsNeeded()).thenApplyAsync(first -> start(req, plan.build().apply(first)),
            executor));
  }

  private AddOperatorResponse start(AddOperatorRequest req, Operator op) {
    OperatorController c = coordinator.controller();
    Optional<Operator> held = c.running(req.getRegionId());
    if (held.isPresent()) {
      if (ORIGIN.equals(held.get().origin())) {
        throw PdService.invalid("region_id: region " + req.getRegionId() + " already runs admin " + held.get()
            + "; cancel it first");
      }
      c.cancel(held.get().id(), 0, "replaced by admin operator " + op.id(), System.currentTimeMillis());
    }
    String refused = c.add(op, runtime.reportedSnapshots());
    if (refused != null) {
      throw new PdFailure(PdErrorType.PD_ERROR_UNAVAILABLE, refused + "; retry later");
    }
    return AddOperatorResponse.newBuilder().setOperator(op.info()).build();
  }

  private Plan plan(AddOperatorRequest req) {
    service.requireBootstrapped();
    PdRegionRecord record = state.regionById(req.getRegionId()).orElseThrow(() -> new PdFailure(
        PdErrorType.PD_ERROR_REGION_NOT_FOUND, "region_id: no region " + req.getRegionId()));
    RegionView r = runtime.regionView(record);
    OperatorKind kind = req.getKind();
    long now = System.currentTimeMillis();
    long timeout = coordinator.controller().timeoutFor(kind);
    return switch (kind) {
      case OPERATOR_KIND_TRANSFER_LEADER -> {
        Peer to = voterOn(r, "to_store", req.getToStore());
        if (r.isLeader(to.getId())) {
          throw PdService.invalid("to_store: store " + req.getToStore() + " already leads region " + r.id());
        }
        yield new Plan(1, id -> Operators.transferLeader(new Operators.Meta(id, ORIGIN, now, timeout), r, to));
      }
      case OPERATOR_KIND_ADD_PEER -> {
        long to = targetStore(r, req.getToStore());
        yield new Plan(2, id -> Operators.addPeer(new Operators.Meta(id, ORIGIN, now, timeout), r, to, id + 1));
      }
      case OPERATOR_KIND_REMOVE_PEER -> {
        Peer from = peerOn(r, "from_store", req.getFromStore());
        yield new Plan(1, id -> Operators.removePeer(new Operators.Meta(id, ORIGIN, now, timeout), r, from, ""));
      }
      case OPERATOR_KIND_MOVE_PEER -> {
        Peer from = peerOn(r, "from_store", req.getFromStore());
        long to = targetStore(r, req.getToStore());
        yield new Plan(2, id -> Operators.movePeer(new Operators.Meta(id, ORIGIN, now, timeout), r, from, to, id + 1,
            ""));
      }
      case OPERATOR_KIND_SPLIT -> {
        ByteString key = req.getSplitKey();
        if (!key.isEmpty() && !inside(r.region(), key)) {
          throw PdService.invalid("split_key: must be strictly inside region " + r.id() + "'s range ["
              + PdService.keyString(r.region().getStartKey()) + ", " + PdService.keyString(r.region().getEndKey())
              + "), got " + PdService.keyString(key));
        }
        yield new Plan(1, id -> Operators.split(new Operators.Meta(id, ORIGIN, now, timeout), r, key));
      }
      default -> throw PdService.invalid("kind: must be one of OPERATOR_KIND_TRANSFER_LEADER, OPERATOR_KIND_ADD_PEER,"
          + " OPERATOR_KIND_REMOVE_PEER, OPERATOR_KIND_MOVE_PEER, OPERATOR_KIND_SPLIT, got " + req.getKindValue());
    };
  }

  private static boolean inside(Region region, ByteString key) {
    var cmp = ByteString.unsignedLexicographicalComparator();
    return cmp.compare(key, region.getStartKey()) > 0
        && (region.getEndKey().isEmpty() || cmp.compare(key, region.getEndKey()) < 0);
  }

  private static Peer peerOn(RegionView r, String field, long storeId) {
    if (storeId == 0) {
      throw PdService.invalid(field + ": required for this kind of operator");
    }
    Peer p = r.peerOnStore(storeId);
    if (p == null) {
      throw PdService.invalid(field + ": store " + storeId + " holds no peer of region " + r.id() + " (its peers: "
          + r.region().getPeersList().stream().map(x -> x.getId() + "@store" + x.getStoreId()).toList() + ")");
    }
    return p;
  }

  private static Peer voterOn(RegionView r, String field, long storeId) {
    Peer p = peerOn(r, field, storeId);
    if (p.getRole() != PeerRole.PEER_ROLE_VOTER) {
      throw PdService.invalid(field + ": peer " + p.getId() + " on store " + storeId + " is a " + p.getRole()
          + ", not a voter");
    }
    return p;
  }

  /** {@code storeId} if a new replica of {@code r} may go there. */
  private long targetStore(RegionView r, long storeId) {
    if (storeId == 0) {
      throw PdService.invalid("to_store: required for this kind of operator");
    }
    Store s = state.store(storeId).orElseThrow(() -> PdService.storeNotFound(storeId));
    if (s.getState() != StoreState.STORE_STATE_UP) {
      throw PdService.invalid("to_store: store " + storeId + " is " + s.getState() + "; must be STORE_STATE_UP");
    }
    if (r.peerOnStore(storeId) != null) {
      throw PdService.invalid("to_store: store " + storeId + " already holds peer " + r.peerOnStore(storeId).getId()
          + " of region " + r.id());
    }
    return storeId;
  }

  private CompletableFuture<ListOperatorsResponse> listOperators(ListOperatorsRequest req) {
    service.requireLeader();
    return CompletableFuture.completedFuture(ListOperatorsResponse.newBuilder()
        .addAllOperators(coordinator.controller().list(req.getIncludeEnded())).build());
  }

  private CompletableFuture<CancelOperatorResponse> cancelOperator(CancelOperatorRequest req) {
    if (req.getOperatorId() == 0 && req.getRegionId() == 0) {
      throw PdService.invalid("operator_id or region_id: one is required");
    }
    service.requireLeader();
    Operator op = coordinator.controller()
        .cancel(req.getOperatorId(), req.getRegionId(), "cancelled by an admin", System.currentTimeMillis())
        .orElseThrow(() -> PdService.invalid(req.getOperatorId() != 0
            ? "operator_id: no running operator " + req.getOperatorId()
            : "region_id: region " + req.getRegionId() + " runs no operator"));
    return CompletableFuture.completedFuture(CancelOperatorResponse.newBuilder().setOperator(op.info()).build());
  }

  // ------------------------------------------------------------------ schedulers

  private CompletableFuture<ListSchedulersResponse> listSchedulers(ListSchedulersRequest req) {
    service.requireLeader();
    return CompletableFuture.completedFuture(
        ListSchedulersResponse.newBuilder().addAllSchedulers(coordinator.list()).build());
  }

  private CompletableFuture<SetSchedulerResponse> setScheduler(SetSchedulerRequest req) {
    service.requireLeader();
    try {
      var info = coordinator.set(req.getName(), req.hasEnabled() ? Optional.of(req.getEnabled()) : Optional.empty(),
          req.getSettingsMap());
      return CompletableFuture.completedFuture(SetSchedulerResponse.newBuilder().setScheduler(info).build());
    } catch (IllegalArgumentException e) {
      throw PdService.invalid(e.getMessage());
    }
  }
}
