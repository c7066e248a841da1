package io.flotilla.region.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.RaftCommand;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.txn.CheckTxnStatusRequest;
import io.flotilla.engine.proto.txn.CheckTxnStatusResponse;
import io.flotilla.engine.proto.txn.CommitRequest;
import io.flotilla.engine.proto.txn.CommitResponse;
import io.flotilla.engine.proto.txn.PrewriteRequest;
import io.flotilla.engine.proto.txn.PrewriteResponse;
import io.flotilla.engine.proto.txn.ResolveLockRequest;
import io.flotilla.engine.proto.txn.ResolveLockResponse;
import io.flotilla.engine.proto.txn.RollbackRequest;
import io.flotilla.engine.proto.txn.RollbackResponse;
import io.flotilla.engine.proto.txn.TxnBatchGetRequest;
import io.flotilla.engine.proto.txn.TxnBatchGetResponse;
import io.flotilla.engine.proto.txn.TxnCommand;
import io.flotilla.engine.proto.txn.TxnCommandResponse;
import io.flotilla.engine.proto.txn.TxnError;
import io.flotilla.engine.proto.txn.TxnGetRequest;
import io.flotilla.engine.proto.txn.TxnGetResponse;
import io.flotilla.engine.proto.txn.TxnHeartbeatRequest;
import io.flotilla.engine.proto.txn.TxnHeartbeatResponse;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.engine.proto.txn.TxnScanRequest;
import io.flotilla.engine.proto.txn.TxnScanResponse;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.txn.MvccReader;
import io.flotilla.region.txn.TxnApplier;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The transaction RPC handlers of a store ({@code txn.*}; see {@code txn.proto}), with the checks
 * and error rules of {@link KvService}: region errors (RegionNotFound, NotLeader, EpochNotMatch,
 * KeyNotInRegion, ServerBusy, OutcomeUnknown) travel as the response's {@code region_error}
 * exactly as for raw KV; key, value and request sizes over their limits are refused before
 * anything is proposed, as {@code error.limit_exceeded} naming the setting.
 *
 * <p>Reads ({@code txn.get}, {@code txn.batch_get}, {@code txn.scan}) run on the leader after the
 * read barrier of raw reads, at {@code start_ts} ({@link MvccReader}). The other commands are
 * proposed as {@code RaftCommand.txn} through the region's group, stamped with this leader's clock
 * ({@code now_ms}), and decided at apply ({@link TxnApplier}); a proposal that may still apply
 * answers {@code outcome_unknown}, as a raw write does.
 *
 * <p>Threads: handlers run on transport threads and never block.
 */
final class TxnService {
  private final KvService kv;
  private final Store store;
  private final StoreConfig config;
  private final LongSupplier clockMs;

  TxnService(KvService kv, Store store, StoreConfig config, LongSupplier clockMs) {
    this.kv = kv;
    this.store = store;
    this.config = config;
    this.clockMs = clockMs;
  }

  void register(RaftTransport t) {
    t.registerRpc("txn.get", b -> KvService.parse(b, TxnGetRequest::parseFrom).thenCompose(this::get)
        .thenApply(Message::toByteArray));
    t.registerRpc("txn.batch_get", b -> KvService.parse(b, TxnBatchGetRequest::parseFrom).thenCompose(this::batchGet)
        .thenApply(Message::toByteArray));
    t.registerRpc("txn.scan", b -> KvService.parse(b, TxnScanRequest::parseFrom).thenCompose(this::scan)
        .thenApply(Message::toByteArray));
    t.registerRpc("txn.prewrite", b -> KvService.parse(b, PrewriteRequest::parseFrom).thenCompose(this::prewrite)
        .thenApply(Message::toByteArray));
    t.registerRpc("txn.commit", b -> KvService.parse(b, CommitRequest::parseFrom).thenCompose(this::commit)
        .thenApply(Message::toByteArray));
    t.registerRpc("txn.rollback", b -> KvService.parse(b, RollbackRequest::parseFrom).thenCompose(this::rollback)
        .thenApply(Message::toByteArray));
    t.registerRpc("txn.check_status", b -> KvService.parse(b, CheckTxnStatusRequest::parseFrom)
        .thenCompose(this::checkStatus).thenApply(Message::toByteArray));
    t.registerRpc("txn.resolve_lock", b -> KvService.parse(b, ResolveLockRequest::parseFrom)
        .thenCompose(this::resolveLock).thenApply(Message::toByteArray));
    t.registerRpc("txn.heartbeat", b -> KvService.parse(b, TxnHeartbeatRequest::parseFrom).thenCompose(this::heartbeat)
        .thenApply(Message::toByteArray));
  }

  // ------------------------------------------------------------------ reads

  CompletableFuture<TxnGetResponse> get(TxnGetRequest req) {
    Function<KvError, TxnGetResponse> regionError = e -> TxnGetResponse.newBuilder().setRegionError(e).build();
    return read(req.getContext(), List.of(req.getKey()), regionError,
        snap -> MvccReader.get(snap, req.getKey().toByteArray(), req.getStartTs()));
  }

  CompletableFuture<TxnBatchGetResponse> batchGet(TxnBatchGetRequest req) {
    Function<KvError, TxnBatchGetResponse> regionError =
        e -> TxnBatchGetResponse.newBuilder().setRegionError(e).build();
    return read(req.getContext(), req.getKeysList(), regionError,
        snap -> MvccReader.batchGet(snap, req.getKeysList(), req.getStartTs()));
  }

  CompletableFuture<TxnScanResponse> scan(TxnScanRequest req) {
    Function<KvError, TxnScanResponse> regionError = e -> TxnScanResponse.newBuilder().setRegionError(e).build();
    KvService.Checked c = kv.check(req.getContext());
    if (c.error() != null) {
      return CompletableFuture.completedFuture(regionError.apply(c.error()));
    }
    byte[] start = KeyRange.maxStart(req.getStartKey().toByteArray(), c.region().getStartKey().toByteArray());
    byte[] end = KeyRange.minEnd(req.getEndKey().toByteArray(), c.region().getEndKey().toByteArray());
    int limit = req.getLimit() == 0 ? config.scanPageSize() : req.getLimit();
    if (KeyRange.isEmpty(start, end)) {
      return CompletableFuture.completedFuture(TxnScanResponse.getDefaultInstance());
    }
    return kv.afterReadBarrier(c, regionError,
        onSnapshot(snap -> MvccReader.scan(snap, start, end, limit, req.getStartTs(), req.getKeysOnly())));
  }

  private <T> CompletableFuture<T> read(RequestContext ctx, List<ByteString> keys, Function<KvError, T> regionError,
      Function<KvSnapshot, T> read) {
    KvService.Checked c = kv.check(ctx);
    KvError err = c.error();
    for (int i = 0; err == null && i < keys.size(); i++) {
      err = KvService.keyCheck(c.region(), keys.get(i));
    }
    if (err != null) {
      return CompletableFuture.completedFuture(regionError.apply(err));
    }
    return kv.afterReadBarrier(c, regionError, onSnapshot(read));
  }

  private <T> Supplier<T> onSnapshot(Function<KvSnapshot, T> read) {
    return () -> {
      try (KvSnapshot snap = store.storage().reader().snapshot()) {
        return read.apply(snap);
      }
    };
  }

  // ------------------------------------------------------------------ commands through Raft

  CompletableFuture<PrewriteResponse> prewrite(PrewriteRequest req) {
    TxnError limit = null;
    for (int i = 0; limit == null && i < req.getMutationsCount(); i++) {
      TxnMutation m = req.getMutations(i);
      limit = limit(KvService.limit("max-key-bytes", config.maxKeyBytes(), m.getKey().size()));
      if (limit == null) {
        limit = limit(KvService.limit("max-value-bytes", config.maxValueBytes(), m.getValue().size()));
      }
    }
    if (limit == null) {
      limit = limit(KvService.limit("max-key-bytes", config.maxKeyBytes(), req.getPrimary().size()));
    }
    if (limit == null && req.getTryOnePhase()) {
      // NB: a commit_ts the client took before this prewrite may be below the start of a reader
      // that already read these keys here: safe one-phase commit needs the leader's max read
      // timestamp (TiKV's concurrency manager), which is not built (docs/transactions.md).
      limit = TxnError.newBuilder().setMessage("one-phase commit is not served by this store yet: prewrite, then"
          + " commit").build();
    }
    List<ByteString> keys = req.getMutationsList().stream().map(TxnMutation::getKey).toList();
    return propose(req.getContext(), keys, limit, req.getSerializedSize(), TxnCommand.newBuilder().setPrewrite(req),
        TxnCommandResponse::getPrewrite, e -> PrewriteResponse.newBuilder().setRegionError(e).build(),
        e -> PrewriteResponse.newBuilder().setError(e).build());
  }

  CompletableFuture<CommitResponse> commit(CommitRequest req) {
    return propose(req.getContext(), req.getKeysList(), keysLimit(req.getKeysList()), req.getSerializedSize(),
        TxnCommand.newBuilder().setCommit(req), TxnCommandResponse::getCommit,
        e -> CommitResponse.newBuilder().setRegionError(e).build(), e -> CommitResponse.newBuilder().setError(e).build());
  }

  CompletableFuture<RollbackResponse> rollback(RollbackRequest req) {
    return propose(req.getContext(), req.getKeysList(), keysLimit(req.getKeysList()), req.getSerializedSize(),
        TxnCommand.newBuilder().setRollback(req), TxnCommandResponse::getRollback,
        e -> RollbackResponse.newBuilder().setRegionError(e).build(),
        e -> RollbackResponse.newBuilder().setError(e).build());
  }

  CompletableFuture<CheckTxnStatusResponse> checkStatus(CheckTxnStatusRequest req) {
    return propose(req.getContext(), List.of(req.getPrimary()), keysLimit(List.of(req.getPrimary())),
        req.getSerializedSize(), TxnCommand.newBuilder().setCheckStatus(req), TxnCommandResponse::getCheckStatus,
        e -> CheckTxnStatusResponse.newBuilder().setRegionError(e).build(),
        e -> CheckTxnStatusResponse.newBuilder().setError(e).build());
  }

  CompletableFuture<ResolveLockResponse> resolveLock(ResolveLockRequest req) {
    return propose(req.getContext(), req.getKeysList(), keysLimit(req.getKeysList()), req.getSerializedSize(),
        TxnCommand.newBuilder().setResolveLock(req), TxnCommandResponse::getResolveLock,
        e -> ResolveLockResponse.newBuilder().setRegionError(e).build(),
        e -> ResolveLockResponse.newBuilder().setError(e).build());
  }

  CompletableFuture<TxnHeartbeatResponse> heartbeat(TxnHeartbeatRequest req) {
    return propose(req.getContext(), List.of(req.getPrimary()), keysLimit(List.of(req.getPrimary())),
        req.getSerializedSize(), TxnCommand.newBuilder().setHeartbeat(req), TxnCommandResponse::getHeartbeat,
        e -> TxnHeartbeatResponse.newBuilder().setRegionError(e).build(),
        e -> TxnHeartbeatResponse.newBuilder().setError(e).build());
  }

  /**
   * Checks (limits, then region, leadership, epoch and keys, as a raw write), stamps this leader's
   * clock and proposes; answers what the apply decided, or the region error.
   */
  private <T> CompletableFuture<T> propose(RequestContext ctx, List<ByteString> keys, TxnError limit,
      int requestBytes, TxnCommand.Builder cmd, Function<TxnCommandResponse, T> answer,
      Function<KvError, T> regionError, Function<TxnError, T> txnError) {
    if (limit == null) {
      limit = limit(KvService.limit("max-write-bytes", config.maxWriteBytes(), requestBytes));
    }
    if (limit != null) {
      return CompletableFuture.completedFuture(txnError.apply(limit));
    }
    KvService.Checked c = kv.check(ctx);
    KvError err = c.error();
    for (int i = 0; err == null && i < keys.size(); i++) {
      err = KvService.keyCheck(c.region(), keys.get(i));
    }
    if (err != null) {
      return CompletableFuture.completedFuture(regionError.apply(err));
    }
    RaftCommand raft = RaftCommand.newBuilder().setContext(ctx).setTxn(cmd.setNowMs(clockMs.getAsLong())).build();
    return store.driver().propose(c.peer().regionId(), raft.toByteArray(), raft, TxnCommandResponse.class)
        .handle((res, ex) -> ex == null ? answer.apply(res)
            : regionError.apply(KvService.writeError(c.peer(), KvService.unwrap(ex))));
  }

  private TxnError keysLimit(List<ByteString> keys) {
    for (ByteString k : keys) {
      TxnError e = limit(KvService.limit("max-key-bytes", config.maxKeyBytes(), k.size()));
      if (e != null) {
        return e;
      }
    }
    return null;
  }

  /** A limit's KvError as the transaction error the client gets. */
  private static TxnError limit(KvError e) {
    return e == null ? null
        : TxnError.newBuilder().setMessage(e.getMessage()).setLimitExceeded(e.getLimitExceeded()).build();
  }
}
