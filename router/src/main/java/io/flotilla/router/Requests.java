package io.flotilla.router;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.engine.proto.BatchGetRequest;
import io.flotilla.engine.proto.BatchGetResponse;
import io.flotilla.engine.proto.DeleteRange;
import io.flotilla.engine.proto.GetRequest;
import io.flotilla.engine.proto.GetResponse;
import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.ScanRequest;
import io.flotilla.engine.proto.ScanResponse;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.router.cache.CachedRegion;
import io.flotilla.router.cache.Keys;
import io.flotilla.router.cache.RegionLocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The {@link RegionRequest}s the client sends, one class per RPC shape. */
final class Requests {

  static final String GET = "kv.get";
  static final String BATCH_GET = "kv.batch_get";
  static final String SCAN = "kv.scan";
  static final String WRITE = "kv.write";

  private Requests() {}

  static ByteString bytes(byte[] b) {
    return UnsafeByteOperations.unsafeWrap(b);
  }

  /** kv.get of one key; completes with the value, or null when absent. */
  static final class Get implements RegionRequest<byte[]> {
    private final byte[] key;

    Get(byte[] key) {
      this.key = key;
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
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq,
        long minPendingSeq) {
      return GetRequest.newBuilder().setContext(context).setKey(bytes(key)).build().toByteArray();
    }

    @Override
    public Reply<byte[]> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      GetResponse r = GetResponse.parseFrom(response);
      return Reply.of(r.getError(), r.hasError(), r.getFound() ? r.getValue().toByteArray() : null);
    }

    @Override
    public String describe() {
      return "get " + Keys.describe(key);
    }
  }

  /** kv.batch_get of keys that were all in one region when grouped; completes with the pairs. */
  static final class BatchGet implements RegionRequest<List<KvPair>> {
    private final List<byte[]> keys;

    BatchGet(List<byte[]> keys) {
      this.keys = keys;
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
    public CompletableFuture<CachedRegion> locate(RegionLocator locator) {
      return locator.locate(keys.get(0));
    }

    @Override
    public boolean fits(CachedRegion region) {
      return keys.stream().allMatch(region::contains);
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq,
        long minPendingSeq) {
      BatchGetRequest.Builder b = BatchGetRequest.newBuilder().setContext(context);
      for (byte[] k : keys) {
        b.addKeys(bytes(k));
      }
      return b.build().toByteArray();
    }

    @Override
    public Reply<List<KvPair>> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      BatchGetResponse r = BatchGetResponse.parseFrom(response);
      return Reply.of(r.getError(), r.hasError(), r.getPairsList());
    }

    @Override
    public String describe() {
      return "batch get of " + keys.size() + " keys from " + Keys.describe(keys.get(0));
    }
  }

  /** One scan page: what a region returned, and the region, so the scan knows where it ended. */
  record Page(List<KvEntry> entries, CachedRegion region, int asked) {}

  /**
   * kv.scan of one page in the region holding the cursor. Forward: keys in [cursor, to), the
   * cursor inclusive. Reverse: keys in [from, cursor), the cursor exclusive (empty: the end). The
   * range is clipped to the region before it is sent.
   */
  static final class ScanPage implements RegionRequest<Page> {
    private final byte[] from;
    private final byte[] to;
    private final byte[] cursor;
    private final boolean reverse;
    private int limit;

    ScanPage(byte[] from, byte[] to, byte[] cursor, boolean reverse, int limit) {
      this.from = from;
      this.to = to;
      this.cursor = cursor;
      this.reverse = reverse;
      this.limit = limit;
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
      return reverse ? locator.locateBefore(cursor, from) : locator.locate(cursor);
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq,
        long minPendingSeq) {
      byte[] start = reverse ? Keys.maxStart(from, region.startKey()) : cursor;
      byte[] end = reverse ? cursor : Keys.minEnd(to, region.endKey());
      return ScanRequest.newBuilder()
          .setContext(context)
          .setStartKey(bytes(start))
          .setEndKey(bytes(end))
          .setLimit(limit)
          .setReverse(reverse)
          .build()
          .toByteArray();
    }

    @Override
    public Reply<Page> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      ScanResponse r = ScanResponse.parseFrom(response);
      if (r.hasError()) {
        return new Reply<>(r.getError(), null);
      }
      List<KvEntry> entries = new ArrayList<>(r.getPairsCount());
      for (KvPair p : r.getPairsList()) {
        entries.add(new KvEntry(p.getKey().toByteArray(), p.getValue().toByteArray()));
      }
      return new Reply<>(null, new Page(entries, region, limit));
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
      return (reverse ? "reverse scan page before " : "scan page from ")
          + (reverse && cursor.length == 0 ? "the end" : Keys.describe(cursor));
    }
  }

  /** What a kv.write answered. */
  record WriteOutcome(boolean succeeded, int failedMutation, boolean currentFound,
      byte[] currentValue) {}

  /** kv.write of mutations whose keys were all in one region when grouped. */
  static final class Write implements RegionRequest<WriteOutcome> {
    private final List<byte[]> keys;
    private final List<Mutation> mutations;
    private final String description;

    /** @param keys the mutations' keys, routed by the first */
    Write(List<byte[]> keys, List<Mutation> mutations, String description) {
      this.keys = keys;
      this.mutations = mutations;
      this.description = description;
    }

    @Override
    public String method() {
      return WRITE;
    }

    @Override
    public boolean isWrite() {
      return true;
    }

    @Override
    public CompletableFuture<CachedRegion> locate(RegionLocator locator) {
      return locator.locate(keys.get(0));
    }

    @Override
    public boolean fits(CachedRegion region) {
      return keys.size() == 1 || keys.stream().allMatch(region::contains);
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq,
        long minPendingSeq) {
      return writeRequest(context, clientId, seq, minPendingSeq, mutations);
    }

    @Override
    public Reply<WriteOutcome> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      return decodeWrite(response);
    }

    @Override
    public String describe() {
      return description;
    }
  }

  /**
   * kv.write of a DeleteRange of [cursor, to) clipped to the region holding the cursor; completes
   * with that region, so the caller continues at its end.
   */
  static final class DeleteRangePiece implements RegionRequest<CachedRegion> {
    private final byte[] cursor;
    private final byte[] to;

    DeleteRangePiece(byte[] cursor, byte[] to) {
      this.cursor = cursor;
      this.to = to;
    }

    @Override
    public String method() {
      return WRITE;
    }

    @Override
    public boolean isWrite() {
      return true;
    }

    @Override
    public CompletableFuture<CachedRegion> locate(RegionLocator locator) {
      return locator.locate(cursor);
    }

    @Override
    public byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq,
        long minPendingSeq) {
      Mutation m = Mutation.newBuilder()
          .setDeleteRange(DeleteRange.newBuilder()
              .setStartKey(bytes(cursor))
              .setEndKey(bytes(Keys.minEnd(to, region.endKey()))))
          .build();
      return writeRequest(context, clientId, seq, minPendingSeq, List.of(m));
    }

    @Override
    public Reply<CachedRegion> decode(CachedRegion region, byte[] response)
        throws InvalidProtocolBufferException {
      WriteResponse r = WriteResponse.parseFrom(response);
      return Reply.of(r.getError(), r.hasError(), region);
    }

    @Override
    public String describe() {
      return "delete range from " + Keys.describe(cursor) + " to "
          + (to.length == 0 ? "the end" : Keys.describe(to));
    }
  }

  private static byte[] writeRequest(RequestContext context, long clientId, long seq, long minPendingSeq,
      List<Mutation> mutations) {
    return WriteRequest.newBuilder()
        .setContext(context)
        .setClientId(clientId)
        .setSeq(seq)
        .setMinPendingSeq(minPendingSeq)
        .addAllMutations(mutations)
        .build()
        .toByteArray();
  }

  private static RegionRequest.Reply<WriteOutcome> decodeWrite(byte[] response)
      throws InvalidProtocolBufferException {
    WriteResponse r = WriteResponse.parseFrom(response);
    return RegionRequest.Reply.of(r.getError(), r.hasError(), new WriteOutcome(r.getSucceeded(),
        r.getFailedMutation(), r.getCurrentFound(), r.getCurrentValue().toByteArray()));
  }
}
