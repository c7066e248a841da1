package io.flotilla.region.txn;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.txn.CheckTxnStatusRequest;
import io.flotilla.engine.proto.txn.CheckTxnStatusResponse;
import io.flotilla.engine.proto.txn.CommitRequest;
import io.flotilla.engine.proto.txn.CommitResponse;
import io.flotilla.engine.proto.txn.MutationKind;
import io.flotilla.engine.proto.txn.PrewriteRequest;
import io.flotilla.engine.proto.txn.PrewriteResponse;
import io.flotilla.engine.proto.txn.ResolveLockRequest;
import io.flotilla.engine.proto.txn.ResolveLockResponse;
import io.flotilla.engine.proto.txn.RollbackRequest;
import io.flotilla.engine.proto.txn.RollbackResponse;
import io.flotilla.engine.proto.txn.TxnCommand;
import io.flotilla.engine.proto.txn.TxnCommandResponse;
import io.flotilla.engine.proto.txn.TxnGetResponse;
import io.flotilla.engine.proto.txn.TxnHeartbeatRequest;
import io.flotilla.engine.proto.txn.TxnHeartbeatResponse;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.engine.proto.txn.TxnScanResponse;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.MemoryKv;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * One region's transaction families on {@link MemoryKv}, applied as the state machine does: each
 * {@link #applyCall} is one apply call (one {@link TxnOverlay}, one batch written after it), with the
 * proposer's clock {@link #now}.
 */
final class TxnTwin {
  final MemoryKv kv = new MemoryKv();
  final Region region;
  long now = 1_000_000;

  TxnTwin(String start, String end) {
    region = Region.newBuilder().setId(7).setStartKey(bs(start)).setEndKey(bs(end))
        .setEpoch(RegionEpoch.newBuilder().setVersion(1).setConfVer(1))
        .addPeers(Peer.newBuilder().setId(71).setStoreId(1)).build();
  }

  static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static TxnMutation put(String k, String v) {
    return TxnMutation.newBuilder().setKind(MutationKind.MUTATION_PUT).setKey(bs(k)).setValue(bs(v)).build();
  }

  static TxnMutation delete(String k) {
    return TxnMutation.newBuilder().setKind(MutationKind.MUTATION_DELETE).setKey(bs(k)).build();
  }

  static TxnMutation lockOnly(String k) {
    return TxnMutation.newBuilder().setKind(MutationKind.MUTATION_LOCK).setKey(bs(k)).build();
  }

  /** The commands applied in one call, in order; the batch is written after it. */
  List<TxnCommandResponse> applyCall(TxnCommand.Builder... cmds) {
    List<TxnCommandResponse> out = new ArrayList<>();
    try (TxnOverlay overlay = TxnOverlay.root(kv); StorageBatch batch = kv.newBatch()) {
      for (TxnCommand.Builder c : cmds) {
        out.add(TxnApplier.apply(region, c.setNowMs(now).build(), overlay, batch).response());
      }
      kv.write(batch);
    }
    return out;
  }

  static TxnCommand.Builder prewriteCmd(long start, String primary, long ttlMs, TxnMutation... ms) {
    return TxnCommand.newBuilder().setPrewrite(PrewriteRequest.newBuilder().setStartTs(start).setPrimary(bs(primary))
        .setTtlMs(ttlMs).addAllMutations(List.of(ms)));
  }

  static TxnCommand.Builder commitCmd(long start, long commit, String... keys) {
    CommitRequest.Builder c = CommitRequest.newBuilder().setStartTs(start).setCommitTs(commit);
    for (String k : keys) {
      c.addKeys(bs(k));
    }
    return TxnCommand.newBuilder().setCommit(c);
  }

  PrewriteResponse prewrite(long start, String primary, TxnMutation... ms) {
    return applyCall(prewriteCmd(start, primary, 3_000, ms)).get(0).getPrewrite();
  }

  PrewriteResponse prewriteOnePhase(long start, long commit, String primary, TxnMutation... ms) {
    TxnCommand.Builder c = prewriteCmd(start, primary, 3_000, ms);
    c.getPrewriteBuilder().setTryOnePhase(true).setCommitTs(commit);
    return applyCall(c).get(0).getPrewrite();
  }

  PrewriteResponse prewriteWithTtl(long start, String primary, long ttlMs, TxnMutation... ms) {
    return applyCall(prewriteCmd(start, primary, ttlMs, ms)).get(0).getPrewrite();
  }

  CommitResponse commit(long start, long commit, String... keys) {
    return applyCall(commitCmd(start, commit, keys)).get(0).getCommit();
  }

  RollbackResponse rollback(long start, String... keys) {
    RollbackRequest.Builder r = RollbackRequest.newBuilder().setStartTs(start);
    for (String k : keys) {
      r.addKeys(bs(k));
    }
    return applyCall(TxnCommand.newBuilder().setRollback(r)).get(0).getRollback();
  }

  CheckTxnStatusResponse checkStatus(String primary, long start, boolean rollbackIfExpired) {
    return applyCall(TxnCommand.newBuilder().setCheckStatus(CheckTxnStatusRequest.newBuilder()
        .setPrimary(bs(primary)).setStartTs(start).setRollbackIfExpired(rollbackIfExpired))).get(0).getCheckStatus();
  }

  ResolveLockResponse resolve(long start, long commit, String... keys) {
    ResolveLockRequest.Builder r = ResolveLockRequest.newBuilder().setStartTs(start).setCommitTs(commit);
    for (String k : keys) {
      r.addKeys(bs(k));
    }
    return applyCall(TxnCommand.newBuilder().setResolveLock(r)).get(0).getResolveLock();
  }

  TxnHeartbeatResponse heartbeat(String primary, long start, long ttlMs) {
    return applyCall(TxnCommand.newBuilder().setHeartbeat(TxnHeartbeatRequest.newBuilder().setPrimary(bs(primary))
        .setStartTs(start).setTtlMs(ttlMs))).get(0).getHeartbeat();
  }

  TxnGetResponse get(String key, long ts) {
    try (KvSnapshot snap = kv.snapshot()) {
      return MvccReader.get(snap, key.getBytes(java.nio.charset.StandardCharsets.UTF_8), ts);
    }
  }

  /** The value at ts, or null; fails on a lock. */
  String value(String key, long ts) {
    TxnGetResponse r = get(key, ts);
    if (r.hasError()) {
      throw new AssertionError("reading " + key + " at " + ts + ": " + r.getError());
    }
    return r.getFound() ? r.getValue().toStringUtf8() : null;
  }

  TxnScanResponse scan(String start, String end, int limit, long ts) {
    try (KvSnapshot snap = kv.snapshot()) {
      return MvccReader.scan(snap, start.getBytes(java.nio.charset.StandardCharsets.UTF_8),
          end.getBytes(java.nio.charset.StandardCharsets.UTF_8), limit, ts, false);
    }
  }

  /** key=value pairs of a scan; fails on a lock. */
  List<String> scanPairs(String start, String end, int limit, long ts) {
    TxnScanResponse r = scan(start, end, limit, ts);
    if (r.hasError()) {
      throw new AssertionError("scan at " + ts + ": " + r.getError());
    }
    return r.getPairsList().stream().map(p -> p.getKey().toStringUtf8() + "=" + p.getValue().toStringUtf8()).toList();
  }

  /** Number of entries in a family. */
  int count(Cf cf) {
    int[] n = {0};
    try (KvSnapshot snap = kv.snapshot()) {
      snap.scan(cf, new byte[0], new byte[0], at -> {
        n[0]++;
        return true;
      });
    }
    return n[0];
  }
}
