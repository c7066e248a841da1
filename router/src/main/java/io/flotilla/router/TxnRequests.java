package io.flotilla.router;

import static io.flotilla.router.Requests.bytes;

import com.google.protobuf.InvalidProtocolBufferException;
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
import io.flotilla.engine.proto.txn.TxnGetRequest;
import io.flotilla.engine.proto.txn.TxnGetResponse;
import io.flotilla.engine.proto.txn.TxnHeartbeatRequest;
import io.flotilla.engine.proto.txn.TxnHeartbeatResponse;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.engine.proto.txn.TxnScanRequest;
import io.flotilla.engine.proto.txn.TxnScanResponse;
import io.flotilla.router.cache.CachedRegion;
import io.flotilla.router.cache.Keys;
import io.flotilla.router.cache.RegionLocator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link RegionRequest}s of transactions (the {@code txn.*} RPCs of txn.proto). Each answers
 * the store's whole response: region errors are handled by {@link RegionCall} like raw KV's,
 * transaction outcomes ({@code TxnError}) by the caller. The writes are idempotent by design
 * (Percolator), so a retry after a lost answer is safe; they carry no (client id, seq).
 */
final class TxnRequests {

  static final String GET = "txn.get";
  static final String BATCH_GET = "txn.batch_get";
  static final String SCAN = "txn.scan";
  static final String PREWRITE = "txn.prewrite";
  static final String COMMIT = "txn.commit";
  static final String ROLLBACK = "txn.rollback";
  static final String CHECK_STATUS = "txn.check_status";
  static final String RESOLVE_LOCK = "txn.resolve_lock";
  static final String HEARTBEAT = "txn.heartbeat";

  private TxnRequests() {}

  /** A request about keys that must all be in one region; the first key finds it. */
  private abstract static class OnKeys<R> implements RegionRequest<R> {
    final List<byte[]> keys;

    OnKeys(List<byte[]> keys) {
      this.keys = keys;
    }

    @Override
    public CompletableFuture<CachedRegion> locate(RegionLocator locator) {
      return locator.locate(keys.get(0));
    }

    @Override
    public boolean fits(CachedRegion region) {
      for (byte[] k : keys) {
        if (!region.contains(k)) {
          return false;
        }
      }
      return true;
    }

    String keysString() {
      return keys.size() == 1 ? Keys.describe(keys.get(0))
          : keys.size() + " keys from " + Keys.describe(keys.get(0));
    }
  }

  static final class Get implements RegionRequest<TxnGetResponse> {
    private final byte[] key;
    private final long startTs;

    Get(byte[] key, long startTs) {
      this.key = key;
      this.startTs = startTs;
    }

    @Override
    public String method() {
      return GET;
    }

    @Override
    public boolean isWrite() {
      return false;
    }

    @Override
    public CompletableFuture<CachedRegion> locate(RegionLocator locator) {
      return locator.locate(key);
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      return TxnGetRequest.newBuilder().setContext(context).setKey(bytes(key)).setStartTs(startTs).build()
          .toByteArray();
    }

    @Override
    public Reply<TxnGetResponse> decode(CachedRegion region, byte[] response) throws InvalidProtocolBufferException {
      TxnGetResponse r = TxnGetResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return "txn get " + Keys.describe(key) + " at " + startTs;
    }
  }

  static final class BatchGet extends OnKeys<TxnBatchGetResponse> {
    private final long startTs;

    BatchGet(List<byte[]> keys, long startTs) {
      super(keys);
      this.startTs = startTs;
    }

    @Override
    public String method() {
      return BATCH_GET;
    }

    @Override
    public boolean isWrite() {
      return false;
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      TxnBatchGetRequest.Builder b = TxnBatchGetRequest.newBuilder().setContext(context).setStartTs(startTs);
      keys.forEach(k -> b.addKeys(bytes(k)));
      return b.build().toByteArray();
    }

    @Override
    public Reply<TxnBatchGetResponse> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      TxnBatchGetResponse r = TxnBatchGetResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return "txn batch get " + keysString() + " at " + startTs;
    }
  }

  /** One region's page of a snapshot scan: answers the region it was sent to with the page. */
  record ScanPage(CachedRegion region, TxnScanResponse response) {}

  static final class ScanPiece implements RegionRequest<ScanPage> {
    private final byte[] cursor;
    private final byte[] to;
    private int limit;
    private final long startTs;

    ScanPiece(byte[] cursor, byte[] to, int limit, long startTs) {
      this.cursor = cursor;
      this.to = to;
      this.limit = limit;
      this.startTs = startTs;
    }

    @Override
    public String method() {
      return SCAN;
    }

    @Override
    public boolean isWrite() {
      return false;
    }

    @Override
    public CompletableFuture<CachedRegion> locate(RegionLocator locator) {
      return locator.locate(cursor);
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      return TxnScanRequest.newBuilder().setContext(context).setStartKey(bytes(cursor))
          .setEndKey(bytes(Keys.minEnd(to, region.endKey()))).setLimit(limit).setStartTs(startTs).build()
          .toByteArray();
    }

    @Override
    public Reply<ScanPage> decode(CachedRegion region, byte[] response) throws InvalidProtocolBufferException {
      TxnScanResponse r = TxnScanResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), new ScanPage(region, r));
    }

    @Override
    public boolean shrink() {
      if (limit <= 1) {
        return false;
      }
      limit /= 2;
      return true;
    }

    @Override
    public String describe() {
      return "txn scan page from " + Keys.describe(cursor) + " at " + startTs;
    }
  }

  static final class Prewrite extends OnKeys<PrewriteResponse> {
    private final List<TxnMutation> mutations;
    private final byte[] primary;
    private final long startTs;
    private final long ttlMs;
    private final long txnSize;

    Prewrite(List<byte[]> keys, List<TxnMutation> mutations, byte[] primary, long startTs, long ttlMs, long txnSize) {
      super(keys);
      this.mutations = mutations;
      this.primary = primary;
      this.startTs = startTs;
      this.ttlMs = ttlMs;
      this.txnSize = txnSize;
    }

    @Override
    public String method() {
      return PREWRITE;
    }

    @Override
    public boolean isWrite() {
      return true;
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      return PrewriteRequest.newBuilder().setContext(context).addAllMutations(mutations).setPrimary(bytes(primary))
          .setStartTs(startTs).setTtlMs(ttlMs).setTxnSize(txnSize).build().toByteArray();
    }

    @Override
    public Reply<PrewriteResponse> decode(CachedRegion region, byte[] response) throws InvalidProtocolBufferException {
      PrewriteResponse r = PrewriteResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return "prewrite " + keysString() + " of txn " + startTs;
    }
  }

  static final class Commit extends OnKeys<CommitResponse> {
    private final long startTs;
    private final long commitTs;

    Commit(List<byte[]> keys, long startTs, long commitTs) {
      super(keys);
      this.startTs = startTs;
      this.commitTs = commitTs;
    }

    @Override
    public String method() {
      return COMMIT;
    }

    @Override
    public boolean isWrite() {
      return true;
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      CommitRequest.Builder b = CommitRequest.newBuilder().setContext(context).setStartTs(startTs)
          .setCommitTs(commitTs);
      keys.forEach(k -> b.addKeys(bytes(k)));
      return b.build().toByteArray();
    }

    @Override
    public Reply<CommitResponse> decode(CachedRegion region, byte[] response) throws InvalidProtocolBufferException {
      CommitResponse r = CommitResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return "commit " + keysString() + " of txn " + startTs + " at " + commitTs;
    }
  }

  static final class Rollback extends OnKeys<RollbackResponse> {
    private final long startTs;

    Rollback(List<byte[]> keys, long startTs) {
      super(keys);
      this.startTs = startTs;
    }

    @Override
    public String method() {
      return ROLLBACK;
    }

    @Override
    public boolean isWrite() {
      return true;
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      RollbackRequest.Builder b = RollbackRequest.newBuilder().setContext(context).setStartTs(startTs);
      keys.forEach(k -> b.addKeys(bytes(k)));
      return b.build().toByteArray();
    }

    @Override
    public Reply<RollbackResponse> decode(CachedRegion region, byte[] response) throws InvalidProtocolBufferException {
      RollbackResponse r = RollbackResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return "roll back " + keysString() + " of txn " + startTs;
    }
  }

  static final class CheckStatus extends OnKeys<CheckTxnStatusResponse> {
    private final long startTs;
    private final long callerTs;
    private final boolean rollbackIfExpired;

    CheckStatus(byte[] primary, long startTs, long callerTs, boolean rollbackIfExpired) {
      super(List.of(primary));
      this.startTs = startTs;
      this.callerTs = callerTs;
      this.rollbackIfExpired = rollbackIfExpired;
    }

    @Override
    public String method() {
      return CHECK_STATUS;
    }

    @Override
    public boolean isWrite() {
      return rollbackIfExpired;
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      return CheckTxnStatusRequest.newBuilder().setContext(context).setPrimary(bytes(keys.get(0)))
          .setStartTs(startTs).setCallerTs(callerTs).setRollbackIfExpired(rollbackIfExpired).build().toByteArray();
    }

    @Override
    public Reply<CheckTxnStatusResponse> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      CheckTxnStatusResponse r = CheckTxnStatusResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return "check status of txn " + startTs + " (primary " + keysString() + ")";
    }
  }

  static final class ResolveLock extends OnKeys<ResolveLockResponse> {
    private final long startTs;
    private final long commitTs;

    ResolveLock(List<byte[]> keys, long startTs, long commitTs) {
      super(keys);
      this.startTs = startTs;
      this.commitTs = commitTs;
    }

    @Override
    public String method() {
      return RESOLVE_LOCK;
    }

    @Override
    public boolean isWrite() {
      return true;
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      ResolveLockRequest.Builder b = ResolveLockRequest.newBuilder().setContext(context).setStartTs(startTs)
          .setCommitTs(commitTs);
      keys.forEach(k -> b.addKeys(bytes(k)));
      return b.build().toByteArray();
    }

    @Override
    public Reply<ResolveLockResponse> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      ResolveLockResponse r = ResolveLockResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return (commitTs == 0 ? "roll back lock " : "commit lock ") + keysString() + " of txn " + startTs;
    }
  }

  static final class Heartbeat extends OnKeys<TxnHeartbeatResponse> {
    private final long startTs;
    private final long ttlMs;

    Heartbeat(byte[] primary, long startTs, long ttlMs) {
      super(List.of(primary));
      this.startTs = startTs;
      this.ttlMs = ttlMs;
    }

    @Override
    public String method() {
      return HEARTBEAT;
    }

    @Override
    public boolean isWrite() {
      return true;
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq) {
      return TxnHeartbeatRequest.newBuilder().setContext(context).setPrimary(bytes(keys.get(0))).setStartTs(startTs)
          .setTtlMs(ttlMs).build().toByteArray();
    }

    @Override
    public Reply<TxnHeartbeatResponse> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      TxnHeartbeatResponse r = TxnHeartbeatResponse.parseFrom(response);
      return Reply.of(r.getRegionError(), r.hasRegionError(), r);
    }

    @Override
    public String describe() {
      return "heartbeat of txn " + startTs;
    }
  }
}
