package io.flotilla.region.server;

import static io.flotilla.region.server.StoreCluster.bytes;
import static io.flotilla.region.server.StoreCluster.ctx;
import static io.flotilla.region.server.StoreCluster.regionOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChange;
import io.flotilla.engine.proto.PeerChangeType;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.SplitRegionStep;
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
import io.flotilla.engine.proto.txn.TxnBatchGetRequest;
import io.flotilla.engine.proto.txn.TxnBatchGetResponse;
import io.flotilla.engine.proto.txn.TxnGetRequest;
import io.flotilla.engine.proto.txn.TxnGetResponse;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.engine.proto.txn.TxnScanRequest;
import io.flotilla.engine.proto.txn.TxnScanResponse;
import io.flotilla.engine.proto.txn.TxnStatus;
import io.flotilla.region.peer.Membership;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.txn.MvccReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transaction RPCs over real stores (Netty, RocksDB): reads at a timestamp, splits and snapshots. */
class StoreTxnTest {
  @TempDir Path dir;
  private StoreCluster cluster;

  @AfterEach
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aTransactionPrewrittenAndCommittedThroughTheRpcsIsReadAtALaterTsAndNotAtAnEarlierOne() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg);
    StoreCluster c = cluster;
    PrewriteResponse p = prewrite(c, 100, "k1", put("k1", "v1"), put("k2", "v2"));
    assertThat(p.hasError()).as("%s", p).isFalse();
    assertThat(get(c, "k1", 150).getError().getLocked().getStartTs()).isEqualTo(100);
    CheckTxnStatusResponse alive = checkStatus(c, "k1", 100);
    assertThat(alive.getStatus()).isEqualTo(TxnStatus.TXN_LOCKED);
    assertThat(alive.getLockTtlMs()).isPositive();
    assertThat(commit(c, 100, 200, "k1", "k2").hasError()).isFalse();

    assertThat(get(c, "k1", 250).getValue().toStringUtf8()).isEqualTo("v1");
    assertThat(get(c, "k1", 199).getFound()).as("before the commit").isFalse();
    assertThat(get(c, "k1", 150).getFound()).isFalse();
    TxnBatchGetResponse batch = call(c, "k1", "txn.batch_get", r -> TxnBatchGetRequest.newBuilder().setContext(r)
        .addKeys(bs("k2")).addKeys(bs("k3")).addKeys(bs("k1")).setStartTs(250).build().toByteArray(),
        TxnBatchGetResponse::parseFrom, TxnBatchGetResponse::getRegionError);
    assertThat(batch.getPairsList()).extracting(kv -> kv.getKey().toStringUtf8()).containsExactly("k2", "k1");
    assertThat(pairs(scan(c, "", 250))).containsExactly("k1=v1", "k2=v2");
    assertThat(scan(c, "", 199).getPairsList()).isEmpty();
    assertThat(c.get("k1").getFound()).as("the raw key space is apart").isFalse();

    // Region errors as for raw KV; limits as the transaction's error.
    Store leader = c.leaderFor(bytes("k1"));
    Region r = regionOf(leader, bytes("k1"));
    Region stale = r.toBuilder().setEpoch(r.getEpoch().toBuilder().setVersion(r.getEpoch().getVersion() + 5)).build();
    PrewriteResponse staleEpoch = parse(c.call(leader, "txn.prewrite", PrewriteRequest.newBuilder()
        .setContext(ctx(stale)).setStartTs(300).setPrimary(bs("k1")).addMutations(put("k1", "x")).build()
        .toByteArray()), PrewriteResponse::parseFrom);
    assertThat(staleEpoch.getRegionError().hasEpochNotMatch()).isTrue();
    String big = "k".repeat(leader.config().maxKeyBytes() + 1);
    PrewriteResponse tooBig = prewrite(c, 300, big, put(big, "x"));
    assertThat(tooBig.getError().getLimitExceeded().getLimit()).isEqualTo("max-key-bytes");
    PrewriteResponse onePhase = call(c, "k9", "txn.prewrite", rc -> PrewriteRequest.newBuilder().setContext(rc)
        .setStartTs(310).setPrimary(bs("k9")).setTtlMs(60_000).addMutations(put("k9", "x")).setTryOnePhase(true)
        .setCommitTs(311).build().toByteArray(), PrewriteResponse::parseFrom, PrewriteResponse::getRegionError);
    assertThat(onePhase.getError().getMessage()).as("one-phase commit is refused: it needs the leader's max read ts")
        .contains("one-phase commit is not served");
    assertThat(get(c, "k9", 400).getFound()).as("nothing written").isFalse();
    for (Store s : c.stores.values()) {
      if (s != leader) {
        PrewriteResponse notLeader = parse(c.call(s, "txn.prewrite", PrewriteRequest.newBuilder().setContext(ctx(r))
            .setStartTs(300).setPrimary(bs("k1")).addMutations(put("k1", "x")).build().toByteArray()),
            PrewriteResponse::parseFrom);
        assertThat(notLeader.getRegionError().hasNotLeader()).isTrue();
      }
    }
    // Every replica decided the same.
    await().atMost(10, TimeUnit.SECONDS).until(() -> sameTxnData(c, 1, 2, 3));
    assertThat(txnData(c.stores.get(1), Cf.LOCK)).isEmpty();
  }

  @Test
  void aNewReplicaCaughtUpByASnapshotKeepsLocksWritesAndVersions() {
    cluster = new StoreCluster(dir, 4, cfg -> cfg.withDriver(cfg.driver().withCompactLogAfterEntries(10)));
    StoreCluster c = cluster;
    await().atMost(20, TimeUnit.SECONDS).until(() -> c.stores.get(1).regions().size() == 1
        && c.leaderForNow(new byte[0]) != null);
    Region region = c.stores.get(1).regions().get(0);
    long rid = region.getId();
    c.put("raw", "r");
    assertThat(prewrite(c, 100, "a", put("a", "1"), put("b", "2")).hasError()).isFalse();
    assertThat(commit(c, 100, 110, "a", "b").hasError()).isFalse();
    assertThat(prewrite(c, 120, "a", mutation(MutationKind.MUTATION_DELETE, "a", "")).hasError()).isFalse();
    assertThat(commit(c, 120, 130, "a").hasError()).isFalse();
    assertThat(prewrite(c, 140, "c", put("c", "pending")).hasError()).isFalse();
    assertThat(rollback(c, 150, "d").hasError()).isFalse();
    for (int i = 0; i < 20; i++) {
      c.put("raw-" + i, "v"); // past the log compaction: the new replica needs a snapshot
    }
    long newPeer = c.pd.nextId.getAndIncrement();
    long store4 = c.stores.get(4).storeId();
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setChangePeers(ChangePeers.newBuilder()
        .addChanges(PeerChange.newBuilder().setType(PeerChangeType.PEER_CHANGE_ADD_LEARNER)
            .setPeer(Peer.newBuilder().setId(newPeer).setStoreId(store4)))),
        hb -> {
          Peer peer = Membership.peer(hb.getRegion(), newPeer);
          return peer != null && peer.getRole() == PeerRole.PEER_ROLE_LEARNER
              && hb.getPendingPeersList().stream().noneMatch(x -> x.getId() == newPeer);
        });
    await().atMost(30, TimeUnit.SECONDS).until(() -> c.pd.stepsDone(rid));
    Store s4 = c.stores.get(4);
    await().atMost(10, TimeUnit.SECONDS).until(() -> sameTxnData(c, 1, 4));
    assertThat(s4.driver().counters().snapshotsApplied()).isPositive();
    for (Cf cf : Cf.TXN) {
      assertThat(txnData(s4, cf)).as(cf.familyName()).isNotEmpty();
    }
    assertThat(StoreTest.dataKeys(s4)).contains("raw", "raw-19");
    // What the new replica's storage answers at a timestamp.
    try (KvSnapshot snap = s4.node().storage().reader().snapshot()) {
      assertThat(MvccReader.get(snap, bytes("b"), 200).getValue().toStringUtf8()).isEqualTo("2");
      assertThat(MvccReader.get(snap, bytes("a"), 125).getValue().toStringUtf8()).isEqualTo("1");
      assertThat(MvccReader.get(snap, bytes("a"), 200).getFound()).isFalse();
      assertThat(MvccReader.get(snap, bytes("c"), 200).getError().getLocked().getStartTs()).isEqualTo(140);
    }
    assertThat(prewrite(c, 150, "d", put("d", "late")).getError().hasAborted()).isTrue();
  }

  @Test
  void aSplitKeepsTransactionDataOnTheRightSide() {
    cluster = new StoreCluster(dir, 3, cfg -> cfg);
    StoreCluster c = cluster;
    await().atMost(20, TimeUnit.SECONDS).until(() -> c.stores.values().stream().allMatch(s -> s.regions().size() == 1)
        && c.leaderForNow(new byte[0]) != null);
    Region region = c.stores.get(1).regions().get(0);
    long rid = region.getId();
    List<TxnMutation> ms = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String k = String.format("key-%03d", i);
      ms.add(put(k, "v" + i));
      keys.add(k);
    }
    assertThat(prewrite(c, 100, "key-000", ms.toArray(TxnMutation[]::new)).hasError()).isFalse();
    assertThat(commit(c, 100, 110, keys.toArray(String[]::new)).hasError()).isFalse();
    assertThat(prewrite(c, 200, "key-015", put("key-015", "new")).hasError()).isFalse();
    ByteString at = bs("key-007");
    c.pd.queueStep(rid, RegionHeartbeatResponse.newBuilder().setSplitRegion(SplitRegionStep.newBuilder()
        .setSplitKey(at)), hb -> hb.getRegion().getEndKey().equals(at));
    await().atMost(15, TimeUnit.SECONDS).until(() -> c.pd.stepsDone(rid) && c.stores.values().stream()
        .allMatch(s -> s.regions().size() == 2));

    assertThat(get(c, "key-003", 150).getValue().toStringUtf8()).isEqualTo("v3");
    assertThat(get(c, "key-010", 150).getValue().toStringUtf8()).isEqualTo("v10");
    TxnScanResponse left = scan(c, "", 150);
    assertThat(pairs(left)).hasSize(7).allMatch(p -> p.compareTo("key-007") < 0);
    TxnScanResponse right = scan(c, "key-007", 250);
    assertThat(right.getError().getLocked().getKey().toStringUtf8()).as("the lock moved with its key")
        .isEqualTo("key-015");
    ResolveLockResponse resolved = call(c, "key-015", "txn.resolve_lock", r -> ResolveLockRequest.newBuilder()
        .setContext(r).setStartTs(200).setCommitTs(210).build().toByteArray(), ResolveLockResponse::parseFrom,
        ResolveLockResponse::getRegionError);
    assertThat(resolved.hasError()).isFalse();
    assertThat(pairs(scan(c, "key-007", 250))).hasSize(13).contains("key-015=new");
    Region rightRegion = regionOf(c.leaderFor(bytes("key-015")), bytes("key-015"));
    assertThat(rightRegion.getId()).isNotEqualTo(rid);
  }

  // ------------------------------------------------------------------ calls

  interface Parser<T> {
    T parse(byte[] b) throws InvalidProtocolBufferException;
  }

  private static <T> T parse(byte[] b, Parser<T> p) {
    try {
      return p.parse(b);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  /** Calls the leader of the routing key's region, retrying region errors a client retries. */
  private static <T> T call(StoreCluster c, String routingKey, String method,
      java.util.function.Function<RequestContext, byte[]> request, Parser<T> parser,
      java.util.function.Function<T, io.flotilla.engine.proto.KvError> regionError) {
    byte[] k = bytes(routingKey);
    return c.retry(() -> {
      Store s = c.leaderFor(k);
      Region r = regionOf(s, k);
      return parser.parse(c.call(s, method, request.apply(ctx(r))));
    }, regionError);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static TxnMutation mutation(MutationKind kind, String k, String v) {
    return TxnMutation.newBuilder().setKind(kind).setKey(bs(k)).setValue(bs(v)).build();
  }

  private static TxnMutation put(String k, String v) {
    return mutation(MutationKind.MUTATION_PUT, k, v);
  }

  private static PrewriteResponse prewrite(StoreCluster c, long start, String primary, TxnMutation... ms) {
    return call(c, ms[0].getKey().toStringUtf8(), "txn.prewrite", r -> PrewriteRequest.newBuilder().setContext(r)
        .setStartTs(start).setPrimary(bs(primary)).setTtlMs(60_000).addAllMutations(List.of(ms)).build()
        .toByteArray(), PrewriteResponse::parseFrom, PrewriteResponse::getRegionError);
  }

  private static CommitResponse commit(StoreCluster c, long start, long commitTs, String... keys) {
    return call(c, keys[0], "txn.commit", r -> CommitRequest.newBuilder().setContext(r).setStartTs(start)
        .setCommitTs(commitTs).addAllKeys(List.of(keys).stream().map(StoreTxnTest::bs).toList()).build().toByteArray(),
        CommitResponse::parseFrom, CommitResponse::getRegionError);
  }

  private static RollbackResponse rollback(StoreCluster c, long start, String key) {
    return call(c, key, "txn.rollback", r -> RollbackRequest.newBuilder().setContext(r).setStartTs(start)
        .addKeys(bs(key)).build().toByteArray(), RollbackResponse::parseFrom, RollbackResponse::getRegionError);
  }

  private static CheckTxnStatusResponse checkStatus(StoreCluster c, String primary, long start) {
    return call(c, primary, "txn.check_status", r -> CheckTxnStatusRequest.newBuilder().setContext(r)
        .setPrimary(bs(primary)).setStartTs(start).build().toByteArray(), CheckTxnStatusResponse::parseFrom,
        CheckTxnStatusResponse::getRegionError);
  }

  private static TxnGetResponse get(StoreCluster c, String key, long ts) {
    return call(c, key, "txn.get", r -> TxnGetRequest.newBuilder().setContext(r).setKey(bs(key)).setStartTs(ts)
        .build().toByteArray(), TxnGetResponse::parseFrom, TxnGetResponse::getRegionError);
  }

  /** One page (the region holding {@code start}) of the scan from {@code start}. */
  private static TxnScanResponse scan(StoreCluster c, String start, long ts) {
    return call(c, start, "txn.scan", r -> TxnScanRequest.newBuilder().setContext(r).setStartKey(bs(start))
        .setStartTs(ts).build().toByteArray(), TxnScanResponse::parseFrom, TxnScanResponse::getRegionError);
  }

  private static List<String> pairs(TxnScanResponse r) {
    assertThat(r.hasError()).as("%s", r.getError()).isFalse();
    return r.getPairsList().stream().map(StoreTxnTest::pair).toList();
  }

  private static String pair(KvPair p) {
    return p.getKey().toStringUtf8() + "=" + p.getValue().toStringUtf8();
  }

  // ------------------------------------------------------------------ storage

  static List<String> txnData(Store s, Cf cf) {
    List<String> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    try (var snap = s.node().storage().reader().snapshot()) {
      snap.scan(cf, new byte[0], new byte[0], at -> {
        out.add(hex.formatHex(at.key()) + "=" + hex.formatHex(at.value()));
        return true;
      });
    }
    return out;
  }

  private static boolean sameTxnData(StoreCluster c, int... idx) {
    for (Cf cf : Cf.TXN) {
      List<String> first = txnData(c.stores.get(idx[0]), cf);
      for (int i : idx) {
        if (!txnData(c.stores.get(i), cf).equals(first)) {
          return false;
        }
      }
    }
    return true;
  }
}
