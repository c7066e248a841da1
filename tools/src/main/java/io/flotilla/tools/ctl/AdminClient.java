package io.flotilla.tools.ctl;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.flotilla.engine.client.PdException;
import io.flotilla.engine.client.PdMethods;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.AddOperatorRequest;
import io.flotilla.engine.proto.AddOperatorResponse;
import io.flotilla.engine.proto.CancelOperatorRequest;
import io.flotilla.engine.proto.CancelOperatorResponse;
import io.flotilla.engine.proto.GetRegionByIdRequest;
import io.flotilla.engine.proto.GetRegionRequest;
import io.flotilla.engine.proto.GetRegionResponse;
import io.flotilla.engine.proto.GetStoreRequest;
import io.flotilla.engine.proto.GetStoreResponse;
import io.flotilla.engine.proto.GetStoresRequest;
import io.flotilla.engine.proto.GetStoresResponse;
import io.flotilla.engine.proto.ListOperatorsRequest;
import io.flotilla.engine.proto.ListOperatorsResponse;
import io.flotilla.engine.proto.ListSchedulersRequest;
import io.flotilla.engine.proto.ListSchedulersResponse;
import io.flotilla.engine.proto.OperatorInfo;
import io.flotilla.engine.proto.PdError;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.ScanRegionsRequest;
import io.flotilla.engine.proto.ScanRegionsResponse;
import io.flotilla.engine.proto.SchedulerInfo;
import io.flotilla.engine.proto.SetSchedulerRequest;
import io.flotilla.engine.proto.SetSchedulerResponse;
import io.flotilla.engine.proto.SetStoreStateRequest;
import io.flotilla.engine.proto.SetStoreStateResponse;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.transport.ConnectionLostException;
import io.flotilla.engine.transport.RemoteRpcException;
import io.flotilla.engine.transport.RpcErrorCode;
import io.flotilla.engine.transport.RpcTimeoutException;
import com.google.protobuf.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The PD calls of {@code flotilla ctl}, blocking, each failure turned into a {@link CtlException}
 * whose one line says what happened and what to do. Every call goes through {@link
 * RemotePdClient#call}, so it finds the PD leader and fails over within the {@code --timeout}.
 *
 * <p>Threads: one command's thread.
 */
final class AdminClient implements AutoCloseable {
  // The admin RPCs of pd.proto.
  static final String SET_STORE_STATE = PdMethods.SET_STORE_STATE;
  static final String ADD_OPERATOR = PdMethods.ADD_OPERATOR;
  static final String LIST_OPERATORS = PdMethods.LIST_OPERATORS;
  static final String CANCEL_OPERATOR = PdMethods.CANCEL_OPERATOR;
  static final String LIST_SCHEDULERS = PdMethods.LIST_SCHEDULERS;
  static final String SET_SCHEDULER = PdMethods.SET_SCHEDULER;

  /** Slack over the client's own deadline before a blocked command gives up waiting. */
  private static final long GRACE_MS = 2_000;

  private final String pd;
  private final Duration timeout;
  private final RemotePdClient client;

  AdminClient(String pd, List<InetSocketAddress> addresses, Duration timeout) {
    this.pd = pd;
    this.timeout = timeout;
    this.client = new RemotePdClient(addresses, timeout);
  }

  /** The PD address(es) as the user gave them, for messages. */
  String pd() {
    return pd;
  }

  // ------------------------------------------------------------------ stores

  List<StoreInfo> stores() {
    GetStoresResponse r = call(PdMethods.GET_STORES, GetStoresRequest.newBuilder().setExcludeTombstones(false).build(),
        GetStoresResponse.parser(), GetStoresResponse::getError, null);
    return r.getStoresList().stream().sorted(Comparator.comparingLong(s -> s.getStore().getId())).toList();
  }

  StoreInfo store(long id) {
    return call(PdMethods.GET_STORE, GetStoreRequest.newBuilder().setStoreId(id).build(), GetStoreResponse.parser(),
        GetStoreResponse::getError, storeNotFound(id)).getStore();
  }

  StoreInfo setStoreState(SetStoreStateRequest req) {
    return call(SET_STORE_STATE, req, SetStoreStateResponse.parser(), SetStoreStateResponse::getError,
        storeNotFound(req.getStoreId())).getStore();
  }

  // ------------------------------------------------------------------ regions

  /** Every region, in key order. */
  List<RegionInfo> regions() {
    ScanRegionsRequest req = ScanRegionsRequest.newBuilder().setStartKey(ByteString.EMPTY)
        .setEndKey(ByteString.EMPTY).setLimit(0).build();
    return call(PdMethods.SCAN_REGIONS, req, ScanRegionsResponse.parser(), ScanRegionsResponse::getError, null)
        .getRegionsList();
  }

  RegionInfo region(long id) {
    String notFound = "region " + id + " not found: `flotilla ctl region list` shows the regions";
    GetRegionResponse r = call(PdMethods.GET_REGION_BY_ID, GetRegionByIdRequest.newBuilder().setRegionId(id).build(),
        GetRegionResponse.parser(), GetRegionResponse::getError, regionNotFound(notFound));
    if (!r.hasRegion()) {
      throw new CtlException(notFound);
    }
    return r.getRegion();
  }

  RegionInfo regionByKey(byte[] key) {
    String notFound = "no region holds key " + Format.key(key) + ": is the cluster bootstrapped? "
        + "(`flotilla ctl region list` shows the regions)";
    GetRegionResponse r = call(PdMethods.GET_REGION, GetRegionRequest.newBuilder().setKey(ByteString.copyFrom(key))
        .build(), GetRegionResponse.parser(), GetRegionResponse::getError, regionNotFound(notFound));
    if (!r.hasRegion()) {
      throw new CtlException(notFound);
    }
    return r.getRegion();
  }

  // ------------------------------------------------------------------ timestamps

  /** A fresh timestamp from PD's oracle. */
  long timestamp() {
    return await(PdMethods.TSO, client.getTimestamp(), null);
  }

  // ------------------------------------------------------------------ operators and schedulers

  OperatorInfo addOperator(AddOperatorRequest req) {
    return call(ADD_OPERATOR, req, AddOperatorResponse.parser(), AddOperatorResponse::getError, null).getOperator();
  }

  CompletableFuture<ListOperatorsResponse> listOperatorsAsync(boolean includeEnded) {
    return client.call(LIST_OPERATORS, ListOperatorsRequest.newBuilder().setIncludeEnded(includeEnded).build(),
        ListOperatorsResponse.parser(), ListOperatorsResponse::getError);
  }

  List<OperatorInfo> operators(boolean includeEnded) {
    return await(LIST_OPERATORS, listOperatorsAsync(includeEnded), null).getOperatorsList();
  }

  OperatorInfo cancelOperator(CancelOperatorRequest req) {
    String notRunning = req.getOperatorId() != 0
        ? "operator " + req.getOperatorId() + " is not running: `flotilla ctl operator list --all` shows the operators"
        : "region " + req.getRegionId() + " runs no operator: `flotilla ctl operator list` shows the running ones";
    // PD answers INVALID_ARGUMENT when nothing matches (we always send one of the two ids).
    return call(CANCEL_OPERATOR, req, CancelOperatorResponse.parser(), CancelOperatorResponse::getError,
        e -> e.type() == PdErrorType.PD_ERROR_INVALID_ARGUMENT || e.type() == PdErrorType.PD_ERROR_REGION_NOT_FOUND
            ? notRunning : null).getOperator();
  }

  CompletableFuture<ListSchedulersResponse> listSchedulersAsync() {
    return client.call(LIST_SCHEDULERS, ListSchedulersRequest.getDefaultInstance(), ListSchedulersResponse.parser(),
        ListSchedulersResponse::getError);
  }

  List<SchedulerInfo> schedulers() {
    return await(LIST_SCHEDULERS, listSchedulersAsync(), null).getSchedulersList();
  }

  SchedulerInfo setScheduler(SetSchedulerRequest req) {
    return call(SET_SCHEDULER, req, SetSchedulerResponse.parser(), SetSchedulerResponse::getError, null)
        .getScheduler();
  }

  // ------------------------------------------------------------------ calls and their failures

  private <R> R call(String method, MessageLite req, Parser<R> parser, Function<R, PdError> errorOf,
      Function<PdException, String> specific) {
    return await(method, client.call(method, req, parser, errorOf), specific);
  }

  /**
   * Waits for {@code f} (the client enforces the deadline; this waits a little longer), turning a
   * failure into a {@link CtlException}; {@code specific} may name a PD error better than the
   * generic text (null: it cannot).
   */
  <R> R await(String method, CompletableFuture<R> f, Function<PdException, String> specific) {
    try {
      return f.get(timeout.toMillis() + GRACE_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CtlException("interrupted while waiting for PD at " + pd, e);
    } catch (TimeoutException e) {
      throw new CtlException(noAnswer(), e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof PdException pe && specific != null) {
        String s = specific.apply(pe);
        if (s != null) {
          throw new CtlException(s, pe);
        }
      }
      throw new CtlException(explain(method, cause), cause);
    }
  }

  /** Like {@link #await} but at most {@code boundMs}, and a failure is the one-line reason rather than thrown. */
  <R> Optional<R> tryAwait(String method, CompletableFuture<R> f, long boundMs, StringBuilder whyNot) {
    try {
      return Optional.of(f.get(boundMs, TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      whyNot.append("interrupted");
    } catch (TimeoutException e) {
      whyNot.append("PD did not answer ").append(method).append(" within ").append(Format.duration(boundMs));
    } catch (ExecutionException e) {
      whyNot.append(explain(method, e.getCause() == null ? e : e.getCause()));
    }
    return Optional.empty();
  }

  /** One line for a failed call: what happened and what to do. */
  String explain(String method, Throwable cause) {
    if (cause instanceof PdException pe) {
      String msg = pdMessage(pe);
      return switch (pe.type()) {
        case PD_ERROR_NOT_BOOTSTRAPPED -> "PD at " + pd + " has no cluster yet (not bootstrapped): start at least "
            + "3 stores against it (bin/flotilla playground starts PD and 3 stores)";
        case PD_ERROR_NOT_LEADER, PD_ERROR_UNAVAILABLE -> "PD at " + pd + " has no leader that answers (" + msg
            + "): retry in a few seconds; if it lasts, check that a majority of PD members runs";
        case PD_ERROR_STORE_NOT_FOUND -> msg + ": `flotilla ctl store list` shows the stores";
        case PD_ERROR_REGION_NOT_FOUND -> msg + ": `flotilla ctl region list` shows the regions";
        case PD_ERROR_STORE_TOMBSTONE -> msg + ": a tombstone store is gone for good (`flotilla ctl store list`)";
        case PD_ERROR_INVALID_ARGUMENT -> "PD refused " + method + ": " + msg;
        default -> "PD answered " + method + " with " + pe.type() + ": " + msg;
      };
    }
    if (cause instanceof RemoteRpcException re) {
      if (re.code() == RpcErrorCode.UNKNOWN_METHOD && String.valueOf(re.getMessage())
          .contains("'" + PdMethods.GET_MEMBERS + "'")) {
        return pd + " does not answer " + PdMethods.GET_MEMBERS + ": is it a PD's address, not a store's? "
            + "(the playground prints PD's as 'PD: host:port')";
      }
      if (re.code() == RpcErrorCode.UNKNOWN_METHOD) {
        return "PD at " + pd + " does not support " + method + " (" + feature(method) + ") yet: "
            + "run a PD version with the admin RPCs";
      }
      return "PD at " + pd + " failed " + method + " (" + re.getMessage() + "): see the PD leader's log";
    }
    if (cause instanceof ConnectionLostException cl && !cl.maybeDelivered()) {
      return unreachable();
    }
    if (cause instanceof ConnectionLostException || cause instanceof RpcTimeoutException) {
      return noAnswer();
    }
    return "PD at " + pd + ": " + method + " failed: " + cause;
  }

  String unreachable() {
    return "PD at " + pd + " is not reachable: is the playground running? (bin/flotilla playground)";
  }

  private String noAnswer() {
    return "PD at " + pd + " did not answer within " + Format.duration(timeout.toMillis())
        + ": is it running, with a leader? (a change asked for may or may not have been made)";
  }

  private static String pdMessage(PdException e) {
    String prefix = e.type() + ": ";
    String m = e.getMessage();
    return m != null && m.startsWith(prefix) ? m.substring(prefix.length()) : String.valueOf(m);
  }

  private static Function<PdException, String> storeNotFound(long id) {
    return e -> e.type() == PdErrorType.PD_ERROR_STORE_NOT_FOUND
        ? "store " + id + " not found: `flotilla ctl store list` shows the stores" : null;
  }

  private static Function<PdException, String> regionNotFound(String message) {
    return e -> e.type() == PdErrorType.PD_ERROR_REGION_NOT_FOUND ? message : null;
  }

  private static String feature(String method) {
    return switch (method) {
      case SET_STORE_STATE -> "store offline/remove";
      case ADD_OPERATOR, LIST_OPERATORS, CANCEL_OPERATOR -> "operators";
      case LIST_SCHEDULERS, SET_SCHEDULER -> "schedulers";
      case PdMethods.TSO -> "timestamps";
      default -> method;
    };
  }

  @Override
  public void close() {
    client.close();
  }
}
