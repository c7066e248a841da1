package io.flotilla.pd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.txn.CommitRequest;
import io.flotilla.engine.proto.txn.CommitResponse;
import io.flotilla.engine.proto.txn.MutationKind;
import io.flotilla.engine.proto.txn.PrewriteRequest;
import io.flotilla.engine.proto.txn.PrewriteResponse;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.router.KeyLockedException;
import io.flotilla.router.KvEntry;
import io.flotilla.router.LimitExceededException;
import io.flotilla.router.Txn;
import io.flotilla.router.TxnAbortedException;
import io.flotilla.router.TxnClient;
import io.flotilla.router.WriteConflictException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions end to end on a local cluster (PD with its TSO, three stores, the key space cut
 * into 8 regions): atomic commits across regions, snapshot isolation and its anomalies by name,
 * the bank invariant under concurrent transfers. Randomized parts take {@code -Dflotilla.seed}.
 */
class TxnTest {
  private static final long SEED = Long.getLong("flotilla.seed", System.nanoTime());
  private static final int ACCOUNTS = 64;

  @TempDir static Path dir;
  private static LocalCluster cluster;
  private static TxnClient txns;

  @BeforeAll
  static void start() {
    cluster = LocalCluster.builder(dir).stores(3)
        .storeConfig(c -> c.withStorage(c.storage().withFsync(false)))
        .start();
    List<byte[]> boundaries = new ArrayList<>();
    for (char c = 'b'; c <= 'h'; c++) {
      boundaries.add(("acct-" + c).getBytes(StandardCharsets.UTF_8));
    }
    cluster.splitAt(boundaries, Duration.ofSeconds(60));
    txns = cluster.newTxnClient();
  }

  @AfterAll
  static void stop() {
    if (txns != null) {
      txns.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String account(int i) {
    return "acct-" + (char) ('a' + i % 8) + "-" + String.format("%03d", i);
  }

  @Test
  void aTransactionOverManyRegionsIsSeenWholeOrNotAtAll() {
    Txn before = txns.begin();
    try (Txn t = txns.begin()) {
      for (int i = 0; i < 16; i++) {
        t.put("multi-" + (char) ('a' + i % 8) + i, "v" + i);
        t.put(account(100 + i), "x");
      }
      assertThat(t.get("multi-a0")).as("a transaction reads its own writes").isEqualTo("v0");
      long commitTs = t.commit();
      assertThat(commitTs).isGreaterThan(t.startTs());
    }
    assertThat(before.get("multi-a0")).as("a snapshot older than the commit").isNull();
    try (Txn after = txns.begin()) {
      for (int i = 0; i < 16; i++) {
        assertThat(after.get("multi-" + (char) ('a' + i % 8) + i)).isEqualTo("v" + i);
      }
      assertThat(after.scan("multi-", "multi.", 0)).hasSize(16);
    }
    before.close();
  }

  @Test
  void repeatableReadsAndNoReadSkew() {
    try (Txn setup = txns.begin()) {
      setup.put("rr-a", "1");
      setup.put("rr-h", "1");
      setup.commit();
    }
    Txn reader = txns.begin();
    assertThat(reader.get("rr-a")).isEqualTo("1");
    try (Txn writer = txns.begin()) {
      writer.put("rr-a", "2");
      writer.put("rr-h", "2");
      writer.commit();
    }
    assertThat(reader.get("rr-a")).as("non-repeatable read prevented").isEqualTo("1");
    assertThat(reader.get("rr-h")).as("read skew prevented: the other half of the pair is as old").isEqualTo("1");
    reader.close();
  }

  @Test
  void lostUpdatePrevented() {
    try (Txn setup = txns.begin()) {
      setup.put("counter", "0");
      setup.commit();
    }
    Txn a = txns.begin();
    Txn b = txns.begin();
    a.put("counter", String.valueOf(Integer.parseInt(a.get("counter")) + 1));
    b.put("counter", String.valueOf(Integer.parseInt(b.get("counter")) + 1));
    a.commit();
    assertThatThrownBy(b::commit).isInstanceOf(WriteConflictException.class)
        .hasMessageContaining("counter");
    try (Txn check = txns.begin()) {
      assertThat(check.get("counter")).isEqualTo("1");
    }
  }

  /** Snapshot isolation allows write skew: each reads both, writes one; both commit. */
  @Test
  void writeSkewIsAllowedAsSnapshotIsolationDocuments() {
    try (Txn setup = txns.begin()) {
      setup.put("oncall-alice", "on");
      setup.put("oncall-bob", "on");
      setup.commit();
    }
    Txn a = txns.begin();
    Txn b = txns.begin();
    assertThat(a.scan("oncall-", "oncall.", 0)).hasSize(2);
    assertThat(b.scan("oncall-", "oncall.", 0)).hasSize(2);
    a.put("oncall-alice", "off");
    b.put("oncall-bob", "off");
    a.commit();
    b.commit();
    try (Txn check = txns.begin()) {
      assertThat(check.get("oncall-alice")).isEqualTo("off");
      assertThat(check.get("oncall-bob")).isEqualTo("off");
    }
  }

  @Test
  void aTransactionIsUnusableAfterCommitOrRollbackAndOversizedOnesAreRefused() {
    Txn t = txns.begin();
    t.put("x", "1");
    t.commit();
    assertThatThrownBy(() -> t.get("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("committed");
    assertThatThrownBy(() -> t.put("x", "2")).isInstanceOf(IllegalStateException.class);
    Txn r = txns.begin();
    r.rollback();
    assertThatThrownBy(r::commit).isInstanceOf(IllegalStateException.class).hasMessageContaining("rolled back");

    try (TxnClient small = cluster.newTxnClient(new TxnClient.Settings(Duration.ofSeconds(3), 10, 1 << 20));
        Txn big = small.begin()) {
      for (int i = 0; i < 10; i++) {
        big.put("big-" + i, "v");
      }
      assertThatThrownBy(() -> big.put("big-10", "v")).isInstanceOf(LimitExceededException.class)
          .hasMessageContaining("max-txn-keys");
    }
  }

  /**
   * The bank: transfers between random accounts over 8 regions from 4 threads while a reader sums
   * every account in one snapshot, again and again: the total never changes.
   */
  @Test
  void concurrentTransfersNeverChangeTheTotal() throws Exception {
    try (Txn setup = txns.begin()) {
      for (int i = 0; i < ACCOUNTS; i++) {
        setup.put(account(i), "100");
      }
      setup.commit();
    }
    long total = 100L * ACCOUNTS;
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger committed = new AtomicInteger();
    AtomicInteger conflicts = new AtomicInteger();
    AtomicLong sums = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(5);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      Random rnd = new Random(SEED + w);
      workers.add(pool.submit(() -> {
        while (!stop.get()) {
          int from = rnd.nextInt(ACCOUNTS);
          int to = (from + 1 + rnd.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
          int amount = 1 + rnd.nextInt(10);
          try (Txn t = txns.begin()) {
            int a = Integer.parseInt(t.get(account(from)));
            int b = Integer.parseInt(t.get(account(to)));
            t.put(account(from), String.valueOf(a - amount));
            t.put(account(to), String.valueOf(b + amount));
            t.commit();
            committed.incrementAndGet();
          } catch (WriteConflictException | TxnAbortedException | KeyLockedException e) {
            conflicts.incrementAndGet();
          }
        }
        return null;
      }));
    }
    Future<?> reader = pool.submit(() -> {
      while (!stop.get()) {
        try (Txn t = txns.begin()) {
          List<KvEntry> all = t.scan("acct-", "acct.", 0);
          long sum = 0;
          int accounts = 0;
          for (KvEntry e : all) {
            if (!e.keyUtf8().matches("acct-[a-h]-\\d{3}")) {
              continue; // NB: other tests' keys under the same prefix
            }
            int n = Integer.parseInt(e.keyUtf8().substring(7));
            if (n < ACCOUNTS) {
              sum += Long.parseLong(e.valueUtf8());
              accounts++;
            }
          }
          assertThat(accounts).as("seed %d: accounts in the snapshot", SEED).isEqualTo(ACCOUNTS);
          assertThat(sum).as("seed %d: the total in snapshot %d", SEED, t.startTs()).isEqualTo(total);
          sums.incrementAndGet();
        }
      }
      return null;
    });
    await().atMost(Duration.ofSeconds(120)).until(() -> committed.get() >= 300 && sums.get() >= 5
        || workers.stream().anyMatch(Future::isDone) || reader.isDone());
    stop.set(true);
    for (Future<?> f : workers) {
      f.get(60, TimeUnit.SECONDS);
    }
    reader.get(60, TimeUnit.SECONDS);
    pool.shutdown();
    System.out.printf("bank: %d transfers committed, %d conflicts or aborts, %d snapshot sums, seed %d%n",
        committed.get(), conflicts.get(), sums.get(), SEED);
    assertThat(committed.get()).isPositive();
    assertThat(sums.get()).isPositive();
  }

  /**
   * A client that died after its prewrite (its locks stay, nobody commits or rolls them back): the
   * next reader waits out the locks' TTL, then rolls them back (the primary was never committed) —
   * and for a client that died after committing its primary only, commits the secondary. No
   * transfer is ever half applied.
   */
  @Test
  void locksOfADeadClientAreResolvedByTheNextReaderAfterTheirTtl() throws Exception {
    try (PdClient pd = cluster.newPdClient(); RpcClient rpc = new RpcClient(TransportConfig.defaults())) {
      // Died after prewrite: a TTL of 1 s, primary on region a, a secondary on region h.
      long deadTs = pd.getTimestamp().get(10, TimeUnit.SECONDS);
      prewrite(pd, rpc, deadTs, "acct-a-dead", "acct-a-dead", "1");
      prewrite(pd, rpc, deadTs, "acct-a-dead", "acct-h-dead", "1");
      // Died after committing its primary: the secondary stays locked.
      long halfTs = pd.getTimestamp().get(10, TimeUnit.SECONDS);
      prewrite(pd, rpc, halfTs, "acct-b-half", "acct-b-half", "2");
      prewrite(pd, rpc, halfTs, "acct-b-half", "acct-g-half", "2");
      long commitTs = pd.getTimestamp().get(10, TimeUnit.SECONDS);
      CommitResponse c = call(pd, rpc, "acct-b-half", TxnRequestsForTest.COMMIT, ctx -> CommitRequest.newBuilder()
          .setContext(ctx).addKeys(bytes("acct-b-half")).setStartTs(halfTs).setCommitTs(commitTs).build(),
          CommitResponse::parseFrom, CommitResponse::hasRegionError);
      assertThat(c.hasError()).as(c.toString()).isFalse();

      long t0 = System.nanoTime();
      try (Txn reader = txns.begin()) {
        assertThat(reader.get("acct-h-dead")).as("the dead transaction rolled back").isNull();
        assertThat(reader.get("acct-a-dead")).isNull();
        assertThat(reader.get("acct-g-half")).as("the half-committed one committed").isEqualTo("2");
        assertThat(reader.get("acct-b-half")).isEqualTo("2");
      }
      assertThat(System.nanoTime() - t0).as("the reader waited for the dead client's TTL")
          .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(500));
      // A late commit of the rolled-back transaction fails: its rollback record stands.
      long lateTs = pd.getTimestamp().get(10, TimeUnit.SECONDS);
      CommitResponse late = call(pd, rpc, "acct-a-dead", TxnRequestsForTest.COMMIT, ctx -> CommitRequest.newBuilder()
          .setContext(ctx).addKeys(bytes("acct-a-dead")).setStartTs(deadTs).setCommitTs(lateTs).build(),
          CommitResponse::parseFrom, CommitResponse::hasRegionError);
      assertThat(late.hasError()).as(late.toString()).isTrue();
    }
  }

  /** Method names of the txn RPCs, as the router sends them. */
  private static final class TxnRequestsForTest {
    static final String PREWRITE = "txn.prewrite";
    static final String COMMIT = "txn.commit";
  }

  private static void prewrite(PdClient pd, RpcClient rpc, long startTs, String primary, String key, String value)
      throws Exception {
    PrewriteResponse r = call(pd, rpc, key, TxnRequestsForTest.PREWRITE, ctx -> PrewriteRequest.newBuilder()
        .setContext(ctx).setPrimary(bytes(primary)).setStartTs(startTs).setTtlMs(1000).setTxnSize(2)
        .addMutations(TxnMutation.newBuilder().setKind(MutationKind.MUTATION_PUT).setKey(bytes(key))
            .setValue(bytes(value)))
        .build(), PrewriteResponse::parseFrom, PrewriteResponse::hasRegionError);
    assertThat(r.hasError()).as(r.toString()).isFalse();
  }

  private interface Parse<T> {
    T parse(byte[] b) throws com.google.protobuf.InvalidProtocolBufferException;
  }

  /** Sends a request to the leader of {@code key}'s region, again until it is not a region error. */
  private static <T> T call(PdClient pd, RpcClient rpc, String key,
      String method, java.util.function.Function<RequestContext, com.google.protobuf.MessageLite> request,
      Parse<T> parser, java.util.function.Predicate<T> regionError) throws Exception {
    java.util.concurrent.atomic.AtomicReference<T> answer = new java.util.concurrent.atomic.AtomicReference<>();
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
      RegionInfo info = pd.getRegion(bytes(key).toByteArray()).get(5, TimeUnit.SECONDS).orElseThrow();
      String address = pd.getStore(info.getLeader().getStoreId()).get(5, TimeUnit.SECONDS).getStore().getAddress();
      RequestContext ctx = RequestContext.newBuilder().setRegionId(info.getRegion().getId())
          .setEpoch(info.getRegion().getEpoch()).build();
      byte[] out = rpc.call(HostPort.parse(address, false), method, request.apply(ctx).toByteArray(),
          Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
      T t = parser.parse(out);
      answer.set(t);
      return !regionError.test(t);
    });
    return answer.get();
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
