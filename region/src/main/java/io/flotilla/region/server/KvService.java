package io.flotilla.region.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.BatchGetRequest;
import io.flotilla.engine.proto.BatchGetResponse;
import io.flotilla.engine.proto.EpochNotMatch;
import io.flotilla.engine.proto.GetRequest;
import io.flotilla.engine.proto.GetResponse;
import io.flotilla.engine.proto.KeyNotInRegion;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.LimitExceeded;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.NotLeader;
import io.flotilla.engine.proto.OutcomeUnknown;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.RaftCommand;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionNotFound;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.ScanRequest;
import io.flotilla.engine.proto.ScanResponse;
import io.flotilla.engine.proto.ServerBusy;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.engine.raft.StateType;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.region.driver.DroppedException;
import io.flotilla.region.driver.NotLeaderException;
import io.flotilla.region.driver.OutcomeUnknownException;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.peer.RegionPeer;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvReader;
import io.flotilla.region.storage.KvSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The KV RPC handlers of a store ({@code kv.get}, {@code kv.batch_get}, {@code kv.scan}, {@code
 * kv.write}; see {@code kv.proto}). The transaction RPCs ({@link TxnService}) share its checks.
 *
 * <p>Every request is checked, in this order: the region is here and initialized
 * (RegionNotFound); this replica leads it (NotLeader, with the leader's peer if known); the
 * request's epoch {@code version} is the region's (EpochNotMatch with the current region and the
 * regions split off it; {@code conf_ver} is not checked for KV requests, as in TiKV: membership
 * does not change which keys a region holds); every key lies in the region (KeyNotInRegion); for
 * writes, the size limits (LimitExceeded naming the setting; nothing is written).
 *
 * <p>Reads are linearizable: the driver's read barrier (lease read on the leader, ReadIndex
 * otherwise) completes once everything committed before it is applied and written to storage; the
 * epoch is checked again (a split may have applied meanwhile) and the read runs on the store's
 * {@link KvReader} (a snapshot for more than one key), off the transport threads.
 *
 * <p>Driver errors: NotLeader becomes {@code not_leader}; Dropped becomes {@code server_busy}; a
 * read whose barrier failed otherwise (e.g. timed out) answers {@code server_busy} (a read can
 * always be retried). A write that may still apply (its proposal timed out, the replica went away
 * with it, or anything unexpected after it was proposed) answers {@code outcome_unknown}: every
 * other kind on a write means it was not applied, and the router reports the outcome as unknown.
 *
 * <p>Threads: handlers run on transport threads and never block.
 */
final class KvService {
  private final Store store;
  private final StoreConfig config;
  private final Executor readPool;

  KvService(Store store, StoreConfig config, Executor readPool) {
    this.store = store;
    this.config = config;
    this.readPool = readPool;
  }

  void register(RaftTransport transport) {
    transport.registerRpc("kv.get", bytes -> parse(bytes, GetRequest::parseFrom).thenCompose(this::get)
        .thenApply(GetResponse::toByteArray));
    transport.registerRpc("kv.batch_get", bytes -> parse(bytes, BatchGetRequest::parseFrom).thenCompose(this::batchGet)
        .thenApply(BatchGetResponse::toByteArray));
    transport.registerRpc("kv.scan", bytes -> parse(bytes, ScanRequest::parseFrom).thenCompose(this::scan)
        .thenApply(ScanResponse::toByteArray));
    transport.registerRpc("kv.write", bytes -> parse(bytes, WriteRequest::parseFrom).thenCompose(this::write)
        .thenApply(WriteResponse::toByteArray));
  }

  interface Parser<T> {
    T parse(byte[] b) throws InvalidProtocolBufferException;
  }

  static <T> CompletableFuture<T> parse(byte[] bytes, Parser<T> p) {
    try {
      return CompletableFuture.completedFuture(p.parse(bytes));
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("malformed request: " + e.getMessage()));
    }
  }

  // ------------------------------------------------------------------ reads

  CompletableFuture<GetResponse> get(GetRequest req) {
    Checked c = check(req.getContext());
    KvError err = c.error != null ? c.error : keyCheck(c.region, req.getKey());
    if (err != null) {
      return CompletableFuture.completedFuture(GetResponse.newBuilder().setError(err).build());
    }
    return afterReadBarrier(c, err2 -> GetResponse.newBuilder().setError(err2).build(),
        () -> get(store.storage().reader(), req.getKey()));
  }

  static GetResponse get(KvReader reader, ByteString key) {
    byte[] v = reader.get(Cf.DATA, key.toByteArray());
    GetResponse.Builder b = GetResponse.newBuilder().setFound(v != null);
    if (v != null) {
      b.setValue(ByteString.copyFrom(v));
    }
    return b.build();
  }

  CompletableFuture<BatchGetResponse> batchGet(BatchGetRequest req) {
    Checked c = check(req.getContext());
    KvError err = c.error;
    for (int i = 0; err == null && i < req.getKeysCount(); i++) {
      err = keyCheck(c.region, req.getKeys(i));
    }
    if (err != null) {
      return CompletableFuture.completedFuture(BatchGetResponse.newBuilder().setError(err).build());
    }
    return afterReadBarrier(c, e -> BatchGetResponse.newBuilder().setError(e).build(),
        () -> batchGet(store.storage().reader(), req.getKeysList()));
  }

  /** The pairs of {@code keys} that exist, in request order, read at one point in time. */
  static BatchGetResponse batchGet(KvReader reader, List<ByteString> keys) {
    List<byte[]> raw = new ArrayList<>(keys.size());
    for (ByteString k : keys) {
      raw.add(k.toByteArray());
    }
    List<byte[]> values;
    try (KvSnapshot snap = reader.snapshot()) {
      values = snap.multiGet(Cf.DATA, raw);
    }
    BatchGetResponse.Builder b = BatchGetResponse.newBuilder();
    for (int i = 0; i < keys.size(); i++) {
      byte[] v = values.get(i);
      if (v != null) {
        b.addPairs(KvPair.newBuilder().setKey(keys.get(i)).setValue(ByteString.copyFrom(v)));
      }
    }
    return b.build();
  }

  CompletableFuture<ScanResponse> scan(ScanRequest req) {
    Checked c = check(req.getContext());
    if (c.error != null) {
      return CompletableFuture.completedFuture(ScanResponse.newBuilder().setError(c.error).build());
    }
    byte[] start = KeyRange.maxStart(req.getStartKey().toByteArray(), c.region.getStartKey().toByteArray());
    byte[] end = KeyRange.minEnd(req.getEndKey().toByteArray(), c.region.getEndKey().toByteArray());
    int limit = req.getLimit() == 0 ? config.scanPageSize() : req.getLimit();
    return afterReadBarrier(c, e -> ScanResponse.newBuilder().setError(e).build(),
        () -> scanRange(store.storage().reader(), start, end, limit, req.getReverse(), req.getKeysOnly()));
  }

  /** Up to {@code limit} pairs of {@code [start, end)} (end empty: to the end), from the end if {@code reverse}. */
  static ScanResponse scanRange(KvReader reader, byte[] start, byte[] end, int limit, boolean reverse,
      boolean keysOnly) {
    ScanResponse.Builder b = ScanResponse.newBuilder();
    if (KeyRange.isEmpty(start, end) || limit <= 0) {
      return b.build();
    }
    try (KvSnapshot snap = reader.snapshot()) {
      snap.scan(Cf.DATA, start, end, reverse, at -> {
        KvPair.Builder p = KvPair.newBuilder().setKey(ByteString.copyFrom(at.key()));
        if (!keysOnly) {
          p.setValue(ByteString.copyFrom(at.value()));
        }
        b.addPairs(p);
        return b.getPairsCount() < limit;
      });
    }
    return b.build();
  }

  /** Runs {@code read} once the region applied everything committed before now. */
  <T> CompletableFuture<T> afterReadBarrier(Checked c, Function<KvError, T> error, Supplier<T> read) {
    long version = c.region.getEpoch().getVersion();
    return store.driver().readIndex(c.peer.regionId()).handleAsync((index, ex) -> {
      if (ex != null) {
        return error.apply(driverError(c.peer, unwrap(ex)));
      }
      Region now = c.peer.region();
      if (now == null || now.getEpoch().getVersion() != version) {
        return error.apply(epochNotMatch(c.peer, "region " + c.peer.regionId() + " changed while reading"));
      }
      T result = read.get();
      // NB: a replica is tombstoned (in memory) before its data is deleted: if the read may have
      // seen the deletion, this sees the tombstone.
      if (c.peer.state() != RegionPeer.State.NORMAL) {
        return error.apply(KvError.newBuilder().setMessage("region " + c.peer.regionId() + " left store "
            + store.storeId() + " while reading")
            .setRegionNotFound(RegionNotFound.newBuilder().setRegionId(c.peer.regionId())).build());
      }
      return result;
    }, readPool);
  }

  // ------------------------------------------------------------------ writes

  CompletableFuture<WriteResponse> write(WriteRequest req) {
    KvError err = limits(req);
    Checked c = check(req.getContext());
    if (err == null) {
      err = c.error;
    }
    for (int i = 0; err == null && i < req.getMutationsCount(); i++) {
      Mutation m = req.getMutations(i);
      ByteString key = switch (m.getOpCase()) {
        case PUT -> m.getPut().getKey();
        case DELETE -> m.getDelete().getKey();
        case CAS -> m.getCas().getKey();
        default -> null;
      };
      if (key != null) {
        err = keyCheck(c.region, key);
      }
    }
    if (err != null) {
      return CompletableFuture.completedFuture(WriteResponse.newBuilder().setError(err).build());
    }
    RaftCommand cmd = RaftCommand.newBuilder().setContext(req.getContext()).setWrite(req).build();
    return store.driver().propose(c.peer.regionId(), cmd.toByteArray(), cmd, WriteResponse.class).handle((res, ex) ->
        ex == null ? res : WriteResponse.newBuilder().setError(writeError(c.peer, unwrap(ex))).build());
  }

  private KvError limits(WriteRequest req) {
    for (Mutation m : req.getMutationsList()) {
      switch (m.getOpCase()) {
        case PUT -> {
          KvError e = limit("max-key-bytes", config.maxKeyBytes(), m.getPut().getKey().size());
          if (e == null) {
            e = limit("max-value-bytes", config.maxValueBytes(), m.getPut().getValue().size());
          }
          if (e != null) {
            return e;
          }
        }
        case DELETE -> {
          KvError e = limit("max-key-bytes", config.maxKeyBytes(), m.getDelete().getKey().size());
          if (e != null) {
            return e;
          }
        }
        case CAS -> {
          KvError e = limit("max-key-bytes", config.maxKeyBytes(), m.getCas().getKey().size());
          if (e == null) {
            e = limit("max-value-bytes", config.maxValueBytes(), m.getCas().getNewValue().size());
          }
          if (e == null) {
            e = limit("max-value-bytes", config.maxValueBytes(), m.getCas().getExpected().size());
          }
          if (e != null) {
            return e;
          }
        }
        default -> {
          // DeleteRange keys bound a range, not stored: no limit.
        }
      }
    }
    return limit("max-write-bytes", config.maxWriteBytes(), req.getSerializedSize());
  }

  static KvError limit(String name, long max, long actual) {
    if (actual <= max) {
      return null;
    }
    return KvError.newBuilder().setMessage(name + " is " + max + ", got " + actual + "; nothing was written")
        .setLimitExceeded(LimitExceeded.newBuilder().setLimit(name).setMax(max).setActual(actual)).build();
  }

  // ------------------------------------------------------------------ checks

  record Checked(RegionPeer peer, Region region, KvError error) {}

  Checked check(RequestContext ctx) {
    long id = ctx.getRegionId();
    RegionPeer p = store.peer(id);
    Region r = p == null ? null : p.region();
    if (r == null || p.state() != RegionPeer.State.NORMAL) {
      return new Checked(p, null, KvError.newBuilder().setMessage("region " + id + " is not on store " + store.storeId())
          .setRegionNotFound(RegionNotFound.newBuilder().setRegionId(id)).build());
    }
    RaftDriver.GroupInfo info = store.driver().info(id);
    if (info == null || info.role() != StateType.LEADER) {
      return new Checked(p, r, notLeader(p, info == null ? null : p.peer(info.leaderPeer())));
    }
    if (ctx.getEpoch().getVersion() != r.getEpoch().getVersion()) {
      return new Checked(p, r, epochNotMatch(p, "region " + id + " is at version " + r.getEpoch().getVersion()
          + ", request has " + ctx.getEpoch().getVersion()));
    }
    return new Checked(p, r, null);
  }

  static KvError keyCheck(Region r, ByteString key) {
    if (KeyRange.contains(r, key)) {
      return null;
    }
    return KvError.newBuilder().setMessage("key not in region " + r.getId())
        .setKeyNotInRegion(KeyNotInRegion.newBuilder().setKey(key).setRegionId(r.getId())
            .setStartKey(r.getStartKey()).setEndKey(r.getEndKey())).build();
  }

  private KvError epochNotMatch(RegionPeer p, String message) {
    List<Region> current = store.currentRegions(p);
    return KvError.newBuilder().setMessage(message)
        .setEpochNotMatch(EpochNotMatch.newBuilder().addAllCurrentRegions(current)).build();
  }

  private static KvError notLeader(RegionPeer p, Peer leader) {
    NotLeader.Builder nl = NotLeader.newBuilder().setRegionId(p.regionId());
    if (leader != null) {
      nl.setLeader(leader);
    }
    return KvError.newBuilder().setMessage("store does not lead region " + p.regionId()
        + (leader == null ? "; leader unknown" : "; leader is peer " + leader.getId() + " on store "
            + leader.getStoreId())).setNotLeader(nl).build();
  }

  /** Why a proposed write has no answer: NotLeader and Dropped mean not applied; anything else may be. */
  static KvError writeError(RegionPeer p, Throwable cause) {
    if (cause instanceof NotLeaderException || cause instanceof DroppedException) {
      return driverError(p, cause);
    }
    return KvError.newBuilder().setMessage("the write may or may not be applied in region " + p.regionId() + ": "
            + (cause instanceof OutcomeUnknownException ? cause.getMessage() : cause.toString()))
        .setOutcomeUnknown(OutcomeUnknown.newBuilder().setRegionId(p.regionId())).build();
  }

  /** NotLeader, or else ServerBusy: for a read, or a write that certainly was not applied. */
  private static KvError driverError(RegionPeer p, Throwable cause) {
    if (cause instanceof NotLeaderException nle) {
      return notLeader(p, nle.leaderNode() == 0 ? null : p.peerOnStore(nle.leaderNode()));
    }
    String reason = cause instanceof DroppedException ? cause.getMessage()
        : cause instanceof OutcomeUnknownException ? "outcome unknown"
        : cause.toString();
    return KvError.newBuilder().setMessage(cause.getMessage() == null ? cause.toString() : cause.getMessage())
        .setServerBusy(ServerBusy.newBuilder().setReason(reason)).build();
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
