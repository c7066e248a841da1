package io.flotilla.region.server;

import static io.flotilla.region.server.StoreCluster.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.Delete;
import io.flotilla.engine.proto.DeleteRange;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.Put;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.StaleSequence;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three stores bootstrap the first region over real Netty and RocksDB and serve KV requests. */
class StoreTest {
  @TempDir Path dir;
  private StoreCluster cluster;

  @AfterEach
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private StoreCluster start(UnaryOperator<StoreConfig> tweak) {
    cluster = new StoreCluster(dir, 3, tweak);
    return cluster;
  }

  static Mutation put(String k, String v) {
    return Mutation.newBuilder().setPut(Put.newBuilder().setKey(ByteString.copyFromUtf8(k))
        .setValue(ByteString.copyFromUtf8(v))).build();
  }

  @Test
  void threeStoresBootstrapTheFirstRegionAndServeReadsAndWrites() {
    StoreCluster c = start(UnaryOperator.identity());
    await().atMost(15, TimeUnit.SECONDS).until(() -> c.pd.bootstrapped()
        && c.stores.values().stream().allMatch(s -> s.regions().size() == 1));
    Region first = c.stores.get(1).regions().get(0);
    assertThat(first.getStartKey().isEmpty() && first.getEndKey().isEmpty()).isTrue();
    assertThat(first.getEpoch().getVersion()).isEqualTo(1);
    assertThat(first.getPeersCount()).isEqualTo(3);
    assertThat(c.pd.regions).containsKey(first.getId());

    for (String k : List.of("a", "b", "c", "d", "e")) {
      assertThat(c.put(k, "v-" + k).getSucceeded()).isTrue();
    }
    assertThat(c.get("c").getValue().toStringUtf8()).isEqualTo("v-c");
    assertThat(c.get("zz").getFound()).isFalse();
    assertThat(c.scanAll("", "", false, 2)).containsExactly("a=v-a", "b=v-b", "c=v-c", "d=v-d", "e=v-e");
    assertThat(c.scanAll("b", "e", false, 0)).containsExactly("b=v-b", "c=v-c", "d=v-d");
    assertThat(c.scanAll("", "", true, 2)).containsExactly("e=v-e", "d=v-d", "c=v-c", "b=v-b", "a=v-a");
    assertThat(c.scanAll("b", "e", true, 0)).containsExactly("d=v-d", "c=v-c", "b=v-b");

    WriteResponse del = c.write(bytes("a"), WriteRequest.newBuilder()
        .addMutations(Mutation.newBuilder().setDelete(Delete.newBuilder().setKey(ByteString.copyFromUtf8("a"))))
        .addMutations(Mutation.newBuilder().setDeleteRange(DeleteRange.newBuilder()
            .setStartKey(ByteString.copyFromUtf8("c")).setEndKey(ByteString.copyFromUtf8("e")))));
    assertThat(del.getSucceeded()).isTrue();
    assertThat(c.scanAll("", "", false, 0)).containsExactly("b=v-b", "e=v-e");
    // A range delete to the end of the key space (no end key) is clipped to the region.
    assertThat(c.write(bytes("a"), WriteRequest.newBuilder().addMutations(Mutation.newBuilder()
        .setDeleteRange(DeleteRange.newBuilder().setStartKey(ByteString.copyFromUtf8("c"))))).getSucceeded()).isTrue();
    assertThat(c.scanAll("", "", false, 0)).containsExactly("b=v-b");

    // Every replica applied the same data.
    for (Store s : c.stores.values()) {
      await().atMost(10, TimeUnit.SECONDS).until(() -> dataKeys(s).equals(List.of("b")));
    }
  }

  @Test
  void compareAndSetFromManyThreadsGrantsTheKeyToExactlyOne() throws Exception {
    StoreCluster c = start(UnaryOperator.identity());
    c.put("warm", "up");
    int threads = 16;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<WriteResponse>> results = new java.util.ArrayList<>();
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      for (int t = 0; t < threads; t++) {
        String owner = "owner-" + t;
        results.add(pool.submit(() -> {
          go.await();
          return c.write(bytes("lock"), WriteRequest.newBuilder().addMutations(cas("lock", true, null, owner)));
        }));
      }
      go.countDown();
      int granted = 0;
      String winner = null;
      for (int t = 0; t < threads; t++) {
        WriteResponse r = results.get(t).get(30, TimeUnit.SECONDS);
        assertThat(r.hasError()).as("thread %d: %s", t, r.getError()).isFalse();
        if (r.getSucceeded()) {
          granted++;
          winner = "owner-" + t;
        } else {
          assertThat(r.getFailedMutation()).isZero();
          assertThat(r.getCurrentFound()).isTrue();
        }
      }
      assertThat(granted).isEqualTo(1);
      assertThat(c.get("lock").getValue().toStringUtf8()).isEqualTo(winner);
    } finally {
      pool.shutdownNow();
    }
    // CAS sees the writes before it in the same request; a failing CAS writes nothing of its request.
    WriteResponse r = c.write(bytes("x"), WriteRequest.newBuilder().addMutations(put("x", "1"))
        .addMutations(cas("x", false, "1", "2")).addMutations(cas("y", false, "nope", "3")));
    assertThat(r.getSucceeded()).isFalse();
    assertThat(r.getFailedMutation()).isEqualTo(2);
    assertThat(c.get("x").getFound()).isFalse();
    r = c.write(bytes("x"), WriteRequest.newBuilder().addMutations(put("x", "1")).addMutations(cas("x", false, "1", "2")));
    assertThat(r.getSucceeded()).isTrue();
    assertThat(c.get("x").getValue().toStringUtf8()).isEqualTo("2");
  }

  @Test
  void aWriteRetriedWithTheSameClientAndSeqAppliesOnce() {
    StoreCluster c = start(UnaryOperator.identity());
    WriteRequest.Builder first = WriteRequest.newBuilder().setClientId(7).setSeq(1)
        .addMutations(cas("counter", true, null, "1"));
    assertThat(c.write(bytes("counter"), first).getSucceeded()).isTrue();
    // Without de-duplication this CAS (expect absent) would now fail: the stored answer comes back.
    WriteResponse retried = c.write(bytes("counter"), first);
    assertThat(retried.getSucceeded()).isTrue();
    assertThat(retried.hasError()).isFalse();
    // A new seq is applied: the same CAS now fails, and its failure is what a retry gets.
    WriteRequest.Builder second = WriteRequest.newBuilder().setClientId(7).setSeq(2)
        .addMutations(cas("counter", true, null, "2"));
    assertThat(c.write(bytes("counter"), second).getSucceeded()).isFalse();
    c.put("counter", "9");
    WriteResponse again = c.write(bytes("counter"), second);
    assertThat(again.getSucceeded()).isFalse();
    assertThat(again.getCurrentValue().toStringUtf8()).isEqualTo("1");
    assertThat(c.get("counter").getValue().toStringUtf8()).isEqualTo("9");
    // An older seq is not applied.
    WriteResponse stale = c.write(bytes("counter"), WriteRequest.newBuilder().setClientId(7).setSeq(1)
        .addMutations(put("counter", "stale")));
    assertThat(stale.getError().getStaleSequence()).as("%s", stale)
        .isEqualTo(StaleSequence.newBuilder().setClientId(7).setSeq(1).setFloor(2).build());
    assertThat(c.get("counter").getValue().toStringUtf8()).isEqualTo("9");
  }

  @Test
  void writesOfOneClientMayApplyOutOfOrderWhileTheyArePending() {
    StoreCluster c = start(UnaryOperator.identity());
    // seqs 10 and 11 in flight together: 11 lands first, 10 is still pending (min_pending_seq 10).
    WriteRequest.Builder w11 = WriteRequest.newBuilder().setClientId(8).setSeq(11).setMinPendingSeq(10)
        .addMutations(cas("lock", true, null, "by-11"));
    WriteRequest.Builder w10 = WriteRequest.newBuilder().setClientId(8).setSeq(10).setMinPendingSeq(10)
        .addMutations(put("other", "by-10"));
    assertThat(c.write(bytes("lock"), w11).getSucceeded()).isTrue();
    WriteResponse r10 = c.write(bytes("other"), w10);
    assertThat(r10.hasError()).as("%s", r10).isFalse();
    assertThat(c.get("other").getValue().toStringUtf8()).isEqualTo("by-10");
    // Both answers are remembered while the client says 10 is pending: retries apply nothing.
    c.put("lock", "taken-by-someone-else");
    assertThat(c.write(bytes("lock"), w11).getSucceeded()).isTrue();
    c.put("other", "changed");
    assertThat(c.write(bytes("other"), w10).hasError()).isFalse();
    assertThat(c.get("lock").getValue().toStringUtf8()).isEqualTo("taken-by-someone-else");
    assertThat(c.get("other").getValue().toStringUtf8()).isEqualTo("changed");
    // Once the client says nothing below 12 is pending, 10 is forgotten and refused as stale.
    assertThat(c.write(bytes("x"), WriteRequest.newBuilder().setClientId(8).setSeq(12).setMinPendingSeq(12)
        .addMutations(put("x", "1"))).hasError()).isFalse();
    assertThat(c.write(bytes("other"), w10).getError().getStaleSequence().getFloor()).isEqualTo(12);
    assertThat(c.get("other").getValue().toStringUtf8()).isEqualTo("changed");
  }

  @Test
  void aWriteTheLeaderCannotCommitInTimeIsAnsweredOutcomeUnknown() throws Exception {
    StoreCluster c = start(cfg -> cfg.withDriver(cfg.driver().withProposalTimeoutMs(1_000)));
    c.put("a", "1");
    Store leader = c.leaderFor(bytes("a"));
    Region r = StoreCluster.regionOf(leader, bytes("a"));
    // The followers hear nothing any more: the leader appends the write but cannot commit it, and
    // no one else can be elected (the followers hear no votes either).
    for (Store s : c.stores.values()) {
      if (s != leader) {
        s.node().setInboundFilter((from, group, m) -> false);
      }
    }

    WriteResponse w = WriteResponse.parseFrom(c.call(leader, "kv.write", WriteRequest.newBuilder()
        .setContext(StoreCluster.ctx(r)).setClientId(9).setSeq(1).addMutations(put("a", "2"))
        .build().toByteArray()));

    assertThat(w.getError().getOutcomeUnknown().getRegionId()).as("%s", w.getError()).isEqualTo(r.getId());
    assertThat(w.getError().getMessage()).contains("may or may not be applied");
  }

  @Test
  void oversizedKeysValuesAndWritesAreRefusedNamingTheLimit() {
    StoreCluster c = start(cfg -> cfg.withLimits(16, 64, 256));
    WriteResponse key = c.write(bytes("k"), WriteRequest.newBuilder().addMutations(put("k".repeat(17), "v")));
    assertThat(key.getError().getLimitExceeded().getLimit()).isEqualTo("max-key-bytes");
    assertThat(key.getError().getLimitExceeded().getMax()).isEqualTo(16);
    assertThat(key.getError().getLimitExceeded().getActual()).isEqualTo(17);
    WriteResponse value = c.write(bytes("k"), WriteRequest.newBuilder().addMutations(put("k", "v".repeat(65))));
    assertThat(value.getError().getLimitExceeded().getLimit()).isEqualTo("max-value-bytes");
    WriteRequest.Builder big = WriteRequest.newBuilder();
    for (int i = 0; i < 8; i++) {
      big.addMutations(put("k" + i, "v".repeat(60)));
    }
    WriteResponse batch = c.write(bytes("k"), big);
    assertThat(batch.getError().getLimitExceeded().getLimit()).isEqualTo("max-write-bytes");
    assertThat(c.scanAll("", "", false, 0)).isEmpty();
    for (Store s : c.stores.values()) {
      assertThat(dataKeys(s)).isEmpty();
    }
  }

  @Test
  void aWriteOfFourteenMibFitsTheDefaultLimits() {
    StoreCluster c = start(UnaryOperator.identity());
    String seven = "x".repeat(7 << 20);
    WriteResponse r = c.write(bytes("big1"), WriteRequest.newBuilder().addMutations(put("big1", seven))
        .addMutations(put("big2", seven)));
    assertThat(r.hasError()).as("%s", r.getError()).isFalse();
    assertThat(r.getSucceeded()).isTrue();
    assertThat(c.get("big2").getValue().size()).isEqualTo(7 << 20);
  }

  @Test
  void staleEpochAndNonLeaderAreAnsweredWithTheCurrentRegionAndTheLeader() throws Exception {
    StoreCluster c = start(UnaryOperator.identity());
    c.put("a", "1");
    Store leader = c.leaderFor(bytes("a"));
    Region r = StoreCluster.regionOf(leader, bytes("a"));
    Region stale = r.toBuilder().setEpoch(r.getEpoch().toBuilder().setVersion(0)).build();
    WriteResponse w = WriteResponse.parseFrom(c.call(leader, "kv.write", WriteRequest.newBuilder()
        .setContext(StoreCluster.ctx(stale)).addMutations(put("a", "2")).build().toByteArray()));
    assertThat(w.getError().getEpochNotMatch().getCurrentRegionsList()).containsExactly(r);
    io.flotilla.engine.proto.GetResponse g = io.flotilla.engine.proto.GetResponse.parseFrom(c.call(leader, "kv.get",
        io.flotilla.engine.proto.GetRequest.newBuilder().setContext(StoreCluster.ctx(stale))
            .setKey(ByteString.copyFromUtf8("a")).build().toByteArray()));
    assertThat(g.getError().hasEpochNotMatch()).isTrue();
    assertThat(c.get("a").getValue().toStringUtf8()).isEqualTo("1");

    Store follower = c.stores.values().stream().filter(s -> s != leader).findFirst().orElseThrow();
    await().atMost(10, TimeUnit.SECONDS).until(() -> follower.driver().info(r.getId()).leaderPeer() != 0);
    WriteResponse nl = WriteResponse.parseFrom(c.call(follower, "kv.write", WriteRequest.newBuilder()
        .setContext(StoreCluster.ctx(r)).addMutations(put("a", "3")).build().toByteArray()));
    assertThat(nl.getError().getNotLeader().getRegionId()).isEqualTo(r.getId());
    assertThat(nl.getError().getNotLeader().getLeader().getStoreId()).isEqualTo(leader.storeId());
    assertThat(c.get("a").getValue().toStringUtf8()).isEqualTo("1");

    io.flotilla.engine.proto.GetResponse missing = io.flotilla.engine.proto.GetResponse.parseFrom(c.call(leader,
        "kv.get", io.flotilla.engine.proto.GetRequest.newBuilder().setContext(
            io.flotilla.engine.proto.RequestContext.newBuilder().setRegionId(999_999)).build().toByteArray()));
    assertThat(missing.getError().getRegionNotFound().getRegionId()).isEqualTo(999_999);
  }

  @Test
  void storesKeepServingWhilePdIsUnreachable() {
    StoreCluster c = start(cfg -> cfg.withSplit(96L << 20, 5, java.time.Duration.ofMillis(50)));
    c.put("a", "1");
    c.pd.setUnreachable(true);
    int heartbeats = c.pd.regionHeartbeats.size();
    // Over the split threshold too: asking PD fails, and the store goes on serving.
    for (int i = 0; i < 10; i++) {
      assertThat(c.put("k" + i, "v" + i).getSucceeded()).isTrue();
    }
    assertThat(c.get("k9").getValue().toStringUtf8()).isEqualTo("v9");
    assertThat(c.stores.get(1).regions()).hasSize(1);
    assertThat(c.pd.regionHeartbeats.size()).isEqualTo(heartbeats);
    c.pd.setUnreachable(false);
    await().atMost(15, TimeUnit.SECONDS).until(() -> !c.pd.splitReports.isEmpty());
    assertThat(c.get("k9").getValue().toStringUtf8()).isEqualTo("v9");
  }

  static Mutation cas(String key, boolean expectAbsent, String expected, String newValue) {
    io.flotilla.engine.proto.CompareAndSet.Builder b = io.flotilla.engine.proto.CompareAndSet.newBuilder()
        .setKey(ByteString.copyFromUtf8(key)).setExpectAbsent(expectAbsent).setNewValue(ByteString.copyFromUtf8(newValue));
    if (expected != null) {
      b.setExpected(ByteString.copyFromUtf8(expected));
    }
    return Mutation.newBuilder().setCas(b).build();
  }

  static List<String> dataKeys(Store s) {
    List<String> keys = new java.util.ArrayList<>();
    try (var snap = s.node().storage().reader().snapshot()) {
      snap.scan(io.flotilla.region.storage.Cf.DATA, new byte[0], new byte[0], at -> {
        keys.add(new String(at.key(), java.nio.charset.StandardCharsets.UTF_8));
        return true;
      });
    }
    return keys;
  }
}
