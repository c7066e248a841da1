package io.flotilla.region.peer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.flotilla.engine.proto.CompareAndSet;
import io.flotilla.engine.proto.Delete;
import io.flotilla.engine.proto.DeleteRange;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Put;
import io.flotilla.engine.proto.RaftCommand;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.engine.proto.txn.CommitRequest;
import io.flotilla.engine.proto.txn.MutationKind;
import io.flotilla.engine.proto.txn.PrewriteRequest;
import io.flotilla.engine.proto.txn.RollbackRequest;
import io.flotilla.engine.proto.txn.TxnCommand;
import io.flotilla.engine.proto.txn.TxnCommandResponse;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.engine.raft.Entry;
import io.flotilla.region.txn.MvccReader;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.MemoryKv;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The KV state machine's write rules, on {@link MemoryKv}: each apply call is one round's batch,
 * written after the call as the driver does.
 */
class KvStateMachineTest {
  private static final long REGION = 7;
  private static final RegionEpoch EPOCH = RegionEpoch.newBuilder().setVersion(3).setConfVer(2).build();

  private final MemoryKv kv = new MemoryKv();
  private final RegionPeer peer = new RegionPeer(REGION, 71, RegionPeer.State.NORMAL, region("b", "m"), Map.of());
  private final KvStateMachine sm = new KvStateMachine(new OnePeerHost(peer), kv);
  private long index;

  private static Region region(String start, String end) {
    return Region.newBuilder().setId(REGION).setStartKey(bs(start)).setEndKey(bs(end)).setEpoch(EPOCH)
        .addPeers(Peer.newBuilder().setId(71).setStoreId(1)).build();
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static Mutation put(String k, String v) {
    return Mutation.newBuilder().setPut(Put.newBuilder().setKey(bs(k)).setValue(bs(v))).build();
  }

  private static Mutation delete(String k) {
    return Mutation.newBuilder().setDelete(Delete.newBuilder().setKey(bs(k))).build();
  }

  private static Mutation deleteRange(String from, String to) {
    return Mutation.newBuilder().setDeleteRange(DeleteRange.newBuilder().setStartKey(bs(from)).setEndKey(bs(to))).build();
  }

  private static Mutation casAbsent(String k, String v) {
    return Mutation.newBuilder().setCas(CompareAndSet.newBuilder().setKey(bs(k)).setExpectAbsent(true)
        .setNewValue(bs(v))).build();
  }

  private static Mutation cas(String k, String expected, String v) {
    return Mutation.newBuilder().setCas(CompareAndSet.newBuilder().setKey(bs(k)).setExpected(bs(expected))
        .setNewValue(bs(v))).build();
  }

  private static WriteRequest write(Mutation... mutations) {
    return WriteRequest.newBuilder().addAllMutations(List.of(mutations)).build();
  }

  private static WriteRequest session(long client, long seq, long minPending, Mutation... mutations) {
    return write(mutations).toBuilder().setClientId(client).setSeq(seq).setMinPendingSeq(minPending).build();
  }

  /** Applies the writes as consecutive entries of one apply call, writes the batch, returns the answers. */
  private List<WriteResponse> apply(RegionEpoch epoch, WriteRequest... writes) {
    List<Entry> entries = new ArrayList<>();
    for (WriteRequest w : writes) {
      RaftCommand cmd = RaftCommand.newBuilder()
          .setContext(RequestContext.newBuilder().setRegionId(REGION).setEpoch(epoch))
          .setWrite(w.toBuilder().setContext(RequestContext.newBuilder().setRegionId(REGION).setEpoch(epoch)))
          .build();
      entries.add(Entry.normal(1, ++index, cmd.toByteArray()));
    }
    List<WriteResponse> out = new ArrayList<>();
    try (StorageBatch batch = kv.newBatch()) {
      for (Message m : sm.apply(REGION, entries, batch)) {
        out.add((WriteResponse) m);
      }
      kv.write(batch);
    }
    return out;
  }

  private List<WriteResponse> apply(WriteRequest... writes) {
    return apply(EPOCH, writes);
  }

  private String value(String key) {
    byte[] v = kv.get(Cf.DATA, key.getBytes(UTF_8));
    return v == null ? null : new String(v, UTF_8);
  }

  private List<String> data() {
    List<String> out = new ArrayList<>();
    try (KvSnapshot snap = kv.snapshot()) {
      snap.scan(Cf.DATA, new byte[0], new byte[0], at -> out.add(new String(at.key(), UTF_8)));
    }
    return out;
  }

  @Test
  void putsAndDeletesReachTheDataFamilyWhenTheBatchIsWritten() {
    assertThat(apply(write(put("c", "1"), put("d", "2")), write(delete("c")))).allMatch(WriteResponse::getSucceeded);
    assertThat(data()).containsExactly("d");
    assertThat(value("d")).isEqualTo("2");
  }

  @Test
  void aWriteWithAKeyOutsideTheRegionChangesNothing() {
    WriteResponse r = apply(write(put("c", "1"), put("z", "2"))).get(0);
    assertThat(r.getError().getKindCase()).isEqualTo(KvError.KindCase.KEY_NOT_IN_REGION);
    assertThat(data()).isEmpty();
  }

  @Test
  void aWriteProposedAtAnotherEpochIsNotApplied() {
    WriteResponse r = apply(EPOCH.toBuilder().setVersion(2).build(), write(put("c", "1"))).get(0);
    assertThat(r.getError().getKindCase()).isEqualTo(KvError.KindCase.EPOCH_NOT_MATCH);
    assertThat(data()).isEmpty();
  }

  @Test
  void aCompareAndSetSeesTheWritesOfEarlierEntriesOfTheSameApplyCall() {
    List<WriteResponse> r = apply(write(casAbsent("c", "1")), write(cas("c", "1", "2")), write(casAbsent("c", "3")));
    assertThat(r.get(0).getSucceeded()).isTrue();
    assertThat(r.get(1).getSucceeded()).isTrue();
    assertThat(r.get(2).getSucceeded()).isFalse();
    assertThat(r.get(2).getCurrentValue().toStringUtf8()).isEqualTo("2");
    assertThat(value("c")).isEqualTo("2");
  }

  @Test
  void aFailingCompareAndSetDiscardsTheWholeRequestAndNamesItsMutation() {
    apply(write(put("c", "old")));
    WriteResponse r = apply(write(put("d", "1"), cas("c", "other", "new"), delete("c"))).get(0);
    assertThat(r.getSucceeded()).isFalse();
    assertThat(r.getFailedMutation()).isEqualTo(1);
    assertThat(r.getCurrentFound()).isTrue();
    assertThat(r.getCurrentValue().toStringUtf8()).isEqualTo("old");
    assertThat(data()).containsExactly("c");
  }

  @Test
  void aRangeDeleteIsClippedToTheRegion() {
    kvPut("a", "outside-left");
    kvPut("n", "outside-right");
    apply(write(put("b", "1"), put("f", "2"), put("l", "3")));
    apply(write(deleteRange("", "")));
    assertThat(data()).containsExactly("a", "n");
  }

  @Test
  void aRangeDeleteToTheEndOfTheKeySpaceRemovesWritesPendingInTheSameCall() {
    peer.setRegion(region("b", ""));
    kvPut("x", "stored");
    List<WriteResponse> r = apply(write(put("y", "pending")), write(put("zz", "pending")), write(deleteRange("c", "")));
    assertThat(r).allMatch(WriteResponse::getSucceeded);
    assertThat(data()).isEmpty();
  }

  @Test
  void aRetriedSeqGetsItsFirstAnswerAndIsNotAppliedAgain() {
    WriteResponse first = apply(session(9, 1, 1, casAbsent("c", "1"))).get(0);
    apply(write(put("c", "other")));
    WriteResponse retried = apply(session(9, 1, 1, casAbsent("c", "1"))).get(0);
    assertThat(first.getSucceeded()).isTrue();
    assertThat(retried).isEqualTo(first);
    assertThat(value("c")).isEqualTo("other");
  }

  @Test
  void aSeqBelowTheClientsFloorIsStaleAndNotApplied() {
    apply(session(9, 5, 5, put("c", "5")));
    WriteResponse r = apply(session(9, 4, 4, put("c", "4"))).get(0);
    assertThat(r.getError().getKindCase()).isEqualTo(KvError.KindCase.STALE_SEQUENCE);
    assertThat(r.getError().getStaleSequence().getFloor()).isEqualTo(5);
    assertThat(value("c")).isEqualTo("5");
  }

  @Test
  void theDeDuplicationTableIsWrittenInTheSameBatchAndLoadsBack() {
    apply(session(9, 1, 1, put("c", "1")), session(9, 2, 1, put("d", "2")));
    kvPut(Cf.META, RegionRecords.regionKey(REGION), RegionRecords.encodeRegion(RegionPeer.State.NORMAL, 71, peer.region()));
    List<RegionRecords.Loaded> loaded = RegionRecords.loadAll(kv);
    assertThat(loaded).hasSize(1);
    DedupEntry entry = loaded.get(0).dedup().get(9L);
    assertThat(entry.answer(1).getSucceeded()).isTrue();
    assertThat(entry.answer(2).getSucceeded()).isTrue();
    assertThat(entry).isEqualTo(peer.dedup.get(9L));
  }

  private void kvPut(String key, String value) {
    kvPut(Cf.DATA, key.getBytes(UTF_8), value.getBytes(UTF_8));
  }

  private List<Message> applyCommands(RaftCommand... cmds) {
    List<Entry> entries = new ArrayList<>();
    for (RaftCommand c : cmds) {
      entries.add(Entry.normal(1, ++index, c.toByteArray()));
    }
    try (StorageBatch batch = kv.newBatch()) {
      List<Message> out = sm.apply(REGION, entries, batch);
      kv.write(batch);
      return out;
    }
  }

  private static RaftCommand txn(RegionEpoch epoch, TxnCommand.Builder cmd) {
    return RaftCommand.newBuilder().setContext(RequestContext.newBuilder().setRegionId(REGION).setEpoch(epoch))
        .setTxn(cmd.setNowMs(1_000)).build();
  }

  @Test
  void transactionCommandsApplyInOrderWithRawWritesAndAnswerTypedResponses() {
    TxnMutation m = TxnMutation.newBuilder().setKind(MutationKind.MUTATION_PUT).setKey(bs("c")).setValue(bs("t"))
        .build();
    List<Message> out = applyCommands(
        txn(EPOCH, TxnCommand.newBuilder().setPrewrite(PrewriteRequest.newBuilder().setStartTs(10)
            .setPrimary(bs("c")).setTtlMs(100).addMutations(m))),
        RaftCommand.newBuilder().setContext(RequestContext.newBuilder().setRegionId(REGION).setEpoch(EPOCH))
            .setWrite(write(put("c", "raw"))).build(),
        txn(EPOCH, TxnCommand.newBuilder().setCommit(CommitRequest.newBuilder().setStartTs(10).setCommitTs(20)
            .addKeys(bs("c")))),
        txn(EPOCH.toBuilder().setVersion(2).build(), TxnCommand.newBuilder().setRollback(
            RollbackRequest.newBuilder().setStartTs(10).addKeys(bs("c")))));
    assertThat(((TxnCommandResponse) out.get(0)).getPrewrite().hasError()).isFalse();
    assertThat(((WriteResponse) out.get(1)).getSucceeded()).isTrue();
    assertThat(((TxnCommandResponse) out.get(2)).getCommit().hasError()).as("sees the prewrite of the same call")
        .isFalse();
    assertThat(((TxnCommandResponse) out.get(3)).getRollback().getRegionError().hasEpochNotMatch()).isTrue();
    assertThat(value("c")).as("the raw key space is apart").isEqualTo("raw");
    try (KvSnapshot snap = kv.snapshot()) {
      assertThat(MvccReader.get(snap, "c".getBytes(UTF_8), 25).getValue().toStringUtf8()).isEqualTo("t");
    }
    assertThat(peer.keysWritten.get()).isGreaterThanOrEqualTo(3);
  }

  private void kvPut(Cf cf, byte[] key, byte[] value) {
    try (StorageBatch b = kv.newBatch()) {
      b.put(cf, key, value);
      kv.write(b);
    }
  }

  /** A store holding one region, led here, that never splits or changes membership in these tests. */
  private record OnePeerHost(RegionPeer peer) implements RegionHost {
    @Override
    public long storeId() {
      return 1;
    }

    @Override
    public RegionPeer peer(long regionId) {
      return regionId == peer.regionId() ? peer : null;
    }

    @Override
    public List<Region> currentRegions(RegionPeer p) {
      return List.of(p.region());
    }

    @Override
    public boolean reserveSplitChild(long regionId) {
      return false;
    }

    @Override
    public boolean isLeader(long regionId) {
      return true;
    }

    @Override
    public void onSplitWritten(RegionPeer parent, RegionPeer child, boolean campaign) {
      throw new AssertionError("no split in these tests");
    }

    @Override
    public void onMembershipChanged(RegionPeer p) {
      throw new AssertionError("no membership change in these tests");
    }

    @Override
    public void onPeerRemoved(RegionPeer p) {
      throw new AssertionError("no membership change in these tests");
    }

    @Override
    public void onSnapshotRestored(long regionId) {
      throw new AssertionError("no snapshot in these tests");
    }
  }
}
