package io.flotilla.region.txn;

import static io.flotilla.region.txn.TxnTwin.commitCmd;
import static io.flotilla.region.txn.TxnTwin.delete;
import static io.flotilla.region.txn.TxnTwin.lockOnly;
import static io.flotilla.region.txn.TxnTwin.prewriteCmd;
import static io.flotilla.region.txn.TxnTwin.put;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.txn.CheckTxnStatusResponse;
import io.flotilla.engine.proto.txn.PrewriteResponse;
import io.flotilla.engine.proto.txn.TxnCommandResponse;
import io.flotilla.engine.proto.txn.TxnError;
import io.flotilla.engine.proto.txn.TxnStatus;
import io.flotilla.region.storage.Cf;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Percolator's rules as the region applies them (docs/transactions.md, txn.proto), on the in-memory twin. */
class PercolatorTest {
  private final TxnTwin twin = new TxnTwin("a", "n");

  @Test
  void aCommittedTransactionIsReadAtOrAfterItsCommitTsAndNotBefore() {
    assertThat(twin.prewrite(10, "b", put("b", "1"), put("c", "2")).hasError()).isFalse();
    assertThat(twin.commit(10, 20, "b", "c").hasError()).isFalse();
    assertThat(twin.count(Cf.LOCK)).isZero();
    assertThat(twin.value("b", 19)).isNull();
    assertThat(twin.value("b", 20)).isEqualTo("1");
    assertThat(twin.value("c", 100)).isEqualTo("2");
    assertThat(twin.prewrite(30, "b", put("b", "3")).hasError()).isFalse();
    assertThat(twin.commit(30, 40, "b").hasError()).isFalse();
    assertThat(twin.value("b", 39)).isEqualTo("1");
    assertThat(twin.value("b", 40)).isEqualTo("3");
    assertThat(twin.scanPairs("", "", 10, 25)).containsExactly("b=1", "c=2");
    assertThat(twin.scanPairs("", "", 10, 45)).containsExactly("b=3", "c=2");
  }

  @Test
  void aDeleteVersionHidesTheKeyFromLaterReadsOnly() {
    twin.prewrite(10, "b", put("b", "1"));
    twin.commit(10, 20, "b");
    twin.prewrite(30, "b", delete("b"));
    twin.commit(30, 40, "b");
    assertThat(twin.value("b", 35)).isEqualTo("1");
    assertThat(twin.value("b", 40)).isNull();
    assertThat(twin.scanPairs("a", "z", 10, 50)).isEmpty();
  }

  @Test
  void aPrewriteFailsOnAWriteCommittedAfterItsStartTs() {
    twin.prewrite(10, "b", put("b", "1"));
    twin.commit(10, 20, "b");
    PrewriteResponse late = twin.prewrite(15, "b", put("c", "x"), put("b", "2"));
    assertThat(late.getError().getKindCase()).isEqualTo(TxnError.KindCase.WRITE_CONFLICT);
    assertThat(late.getError().getWriteConflict().getConflictStartTs()).isEqualTo(10);
    assertThat(late.getError().getWriteConflict().getConflictCommitTs()).isEqualTo(20);
    assertThat(twin.count(Cf.LOCK)).as("all keys or none").isZero();
    assertThat(twin.prewrite(21, "b", put("b", "2")).hasError()).as("after the commit").isFalse();
  }

  @Test
  void aPrewriteFailsOnALockOfAnotherTransactionAndWritesNothing() {
    twin.prewrite(10, "b", put("b", "1"));
    PrewriteResponse other = twin.prewrite(11, "c", put("c", "2"), put("b", "3"));
    assertThat(other.getError().getLocked().getStartTs()).isEqualTo(10);
    assertThat(other.getError().getLocked().getPrimary().toStringUtf8()).isEqualTo("b");
    assertThat(twin.count(Cf.LOCK)).isEqualTo(1);
    assertThat(twin.count(Cf.VERSION)).isEqualTo(1);
  }

  @Test
  void aPrewriteAndACommitAreIdempotent() {
    assertThat(twin.prewrite(10, "b", put("b", "1")).hasError()).isFalse();
    assertThat(twin.prewrite(10, "b", put("b", "1")).hasError()).as("retry finds its own lock").isFalse();
    assertThat(twin.commit(10, 20, "b").hasError()).isFalse();
    assertThat(twin.commit(10, 20, "b").hasError()).as("retry finds its commit record").isFalse();
    assertThat(twin.prewrite(10, "b", put("b", "1")).hasError()).as("a prewrite retried after commit").isFalse();
    assertThat(twin.count(Cf.LOCK)).isZero();
    assertThat(twin.count(Cf.WRITE)).isEqualTo(1);
  }

  @Test
  void aCommitWithoutALockAnswersTxnNotFound() {
    TxnError e = twin.commit(10, 20, "b").getError();
    assertThat(e.getKindCase()).isEqualTo(TxnError.KindCase.TXN_NOT_FOUND);
    assertThat(twin.count(Cf.WRITE)).isZero();
    assertThat(twin.commit(10, 10, "b").getError().getKindCase()).as("commit_ts not after start_ts")
        .isEqualTo(TxnError.KindCase.KIND_NOT_SET);
  }

  @Test
  void aRollbackRecordBeatsALatePrewriteAndACommit() {
    assertThat(twin.rollback(10, "b").hasError()).isFalse();
    assertThat(twin.prewrite(10, "b", put("b", "1")).getError().getKindCase()).isEqualTo(TxnError.KindCase.ABORTED);
    assertThat(twin.count(Cf.LOCK)).isZero();
    twin.prewrite(12, "c", put("c", "1"));
    assertThat(twin.rollback(12, "c").hasError()).isFalse();
    assertThat(twin.count(Cf.LOCK)).as("the lock goes").isZero();
    assertThat(twin.count(Cf.VERSION)).as("and its value").isZero();
    assertThat(twin.commit(12, 20, "c").getError().getKindCase()).isEqualTo(TxnError.KindCase.ABORTED);
    assertThat(twin.rollback(12, "c").hasError()).as("idempotent").isFalse();
  }

  @Test
  void aRollbackOfACommittedKeyFailsNamingTheCommit() {
    twin.prewrite(10, "b", put("b", "1"));
    twin.commit(10, 20, "b");
    TxnError e = twin.rollback(10, "b").getError();
    assertThat(e.getCommitted().getCommitTs()).isEqualTo(20);
    assertThat(twin.value("b", 30)).isEqualTo("1");
  }

  @Test
  void checkStatusRollsBackAnExpiredPrimaryOnlyPastItsTtlByTheProposersClock() {
    long lockedAt = twin.now;
    twin.prewriteWithTtl(10, "b", 500, put("b", "1"), put("c", "2"));
    twin.now = lockedAt + 499;
    CheckTxnStatusResponse alive = twin.checkStatus("b", 10, true);
    assertThat(alive.getStatus()).isEqualTo(TxnStatus.TXN_LOCKED);
    assertThat(alive.getLockTtlMs()).isEqualTo(1);
    twin.now = lockedAt + 500;
    assertThat(twin.checkStatus("b", 10, true).getStatus()).as("at the TTL, not past it")
        .isEqualTo(TxnStatus.TXN_LOCKED);
    twin.now = lockedAt + 501;
    CheckTxnStatusResponse asked = twin.checkStatus("b", 10, false);
    assertThat(asked.getStatus()).as("expired, not asked to roll back").isEqualTo(TxnStatus.TXN_LOCKED);
    assertThat(asked.getLockTtlMs()).isZero();
    assertThat(twin.checkStatus("b", 10, true).getStatus()).isEqualTo(TxnStatus.TXN_ROLLED_BACK);
    assertThat(twin.checkStatus("b", 10, false).getStatus()).isEqualTo(TxnStatus.TXN_ROLLED_BACK);
    assertThat(twin.commit(10, 20, "b").getError().getKindCase()).isEqualTo(TxnError.KindCase.ABORTED);
    // the secondary is then rolled back by whoever meets it
    assertThat(twin.resolve(10, 0).hasError()).isFalse();
    assertThat(twin.count(Cf.LOCK)).isZero();
  }

  @Test
  void checkStatusOfACommittedOrUnknownTransaction() {
    twin.prewrite(10, "b", put("b", "1"));
    twin.commit(10, 20, "b");
    CheckTxnStatusResponse done = twin.checkStatus("b", 10, true);
    assertThat(done.getStatus()).isEqualTo(TxnStatus.TXN_COMMITTED);
    assertThat(done.getCommitTs()).isEqualTo(20);
    assertThat(twin.checkStatus("c", 30, false).getError().getKindCase()).isEqualTo(TxnError.KindCase.TXN_NOT_FOUND);
    assertThat(twin.checkStatus("c", 30, true).getStatus()).as("missing: rolled back")
        .isEqualTo(TxnStatus.TXN_ROLLED_BACK);
    assertThat(twin.prewrite(30, "c", put("c", "1")).getError().getKindCase()).isEqualTo(TxnError.KindCase.ABORTED);
  }

  @Test
  void aHeartbeatExtendsThePrimaryLocksTtlFromNow() {
    long lockedAt = twin.now;
    twin.prewriteWithTtl(10, "b", 500, put("b", "1"));
    twin.now = lockedAt + 400;
    assertThat(twin.heartbeat("b", 10, 1_000).getLockTtlMs()).isEqualTo(1_000);
    twin.now = lockedAt + 1_300;
    assertThat(twin.checkStatus("b", 10, true).getStatus()).isEqualTo(TxnStatus.TXN_LOCKED);
    assertThat(twin.heartbeat("c", 10, 1_000).getError().getKindCase()).isEqualTo(TxnError.KindCase.TXN_NOT_FOUND);
  }

  @Test
  void resolveLockCommitsOrRollsBackEveryLockOfTheTransactionInTheRegion() {
    twin.prewrite(10, "b", put("b", "1"), put("c", "2"), put("m", "3"));
    twin.prewrite(11, "d", put("d", "4"));
    assertThat(twin.resolve(10, 20).hasError()).isFalse();
    assertThat(twin.count(Cf.LOCK)).as("only transaction 11's lock is left").isEqualTo(1);
    assertThat(twin.scanPairs("a", "d", 10, 30)).containsExactly("b=1", "c=2");
    assertThat(twin.value("m", 30)).isEqualTo("3");
    assertThat(twin.resolve(11, 0, "d").hasError()).isFalse();
    assertThat(twin.count(Cf.LOCK)).isZero();
    assertThat(twin.value("d", 30)).isNull();
    assertThat(twin.prewrite(11, "d", put("d", "4")).getError().getKindCase()).isEqualTo(TxnError.KindCase.ABORTED);
  }

  @Test
  void aOnePhaseCommitLeavesNoLock() {
    PrewriteResponse r = twin.prewriteOnePhase(10, 11, "b", put("b", "1"), put("c", "2"), delete("d"));
    assertThat(r.hasError()).isFalse();
    assertThat(r.getOnePhaseCommitTs()).isEqualTo(11);
    assertThat(twin.count(Cf.LOCK)).isZero();
    assertThat(twin.value("b", 10)).isNull();
    assertThat(twin.value("b", 11)).isEqualTo("1");
    assertThat(twin.prewriteOnePhase(10, 11, "b", put("b", "1")).getOnePhaseCommitTs()).as("a retry")
        .isEqualTo(11);
    assertThat(twin.prewriteOnePhase(12, 12, "b", put("b", "1")).getError().getMessage())
        .contains("commit_ts > start_ts");
  }

  @Test
  void aReadFailsOnAPutLockAtOrBeforeItsTsButNotOnALaterOneOrALockOnlyLock() {
    twin.prewrite(10, "b", put("b", "1"));
    twin.commit(10, 20, "b");
    twin.prewrite(30, "b", put("b", "2"), lockOnly("c"));
    assertThat(twin.value("b", 25)).as("a lock after the read's ts").isEqualTo("1");
    assertThat(twin.get("b", 30).getError().getLocked().getStartTs()).isEqualTo(30);
    assertThat(twin.get("c", 35).hasError()).as("a LOCK lock never blocks").isFalse();
    assertThat(twin.scan("a", "z", 10, 35).getError().getLocked().getKey().toStringUtf8()).isEqualTo("b");
    twin.prewrite(40, "e", lockOnly("e"));
    assertThat(twin.scan("c", "z", 10, 50).hasError()).as("scan skips locks of LOCK kind").isFalse();
    twin.commit(30, 45, "b", "c");
    assertThat(twin.value("c", 50)).as("a committed LOCK writes no value").isNull();
    assertThat(twin.value("b", 50)).isEqualTo("2");
  }

  @Test
  void aScanWithALimitLooksAtLocksOnlyUpToItsLastKey() {
    for (String k : List.of("b", "c", "d")) {
      twin.prewrite(10, "b", put(k, "v" + k));
    }
    twin.commit(10, 20, "b", "c", "d");
    twin.prewrite(30, "k", put("k", "x"));
    assertThat(twin.scanPairs("a", "z", 2, 40)).containsExactly("b=vb", "c=vc");
    assertThat(twin.scanPairs("a", "z", 3, 40)).as("a full page ends at d").containsExactly("b=vb", "c=vc", "d=vd");
    assertThat(twin.scan("a", "z", 4, 40).getError().getLocked().getKey().toStringUtf8())
        .as("a short page covers the rest of the range").isEqualTo("k");
    assertThat(twin.scanPairs("a", "z", 10, 25)).as("the lock is newer").containsExactly("b=vb", "c=vc", "d=vd");
  }

  @Test
  void commandsInOneApplyCallSeeTheOnesBeforeIt() {
    List<TxnCommandResponse> r = twin.applyCall(
        prewriteCmd(10, "b", 3_000, put("b", "1")),
        prewriteCmd(11, "b", 3_000, put("b", "2")),
        commitCmd(10, 20, "b"),
        prewriteCmd(15, "b", 3_000, put("b", "3")),
        prewriteCmd(21, "b", 3_000, put("b", "4")));
    assertThat(r.get(0).getPrewrite().hasError()).isFalse();
    assertThat(r.get(1).getPrewrite().getError().getLocked().getStartTs()).isEqualTo(10);
    assertThat(r.get(2).getCommit().hasError()).isFalse();
    assertThat(r.get(3).getPrewrite().getError().hasWriteConflict()).isTrue();
    assertThat(r.get(4).getPrewrite().hasError()).isFalse();
    assertThat(twin.value("b", 20)).isEqualTo("1");
    assertThat(twin.get("b", 21).getError().getLocked().getStartTs()).isEqualTo(21);
  }

  @Test
  void aKeyOutsideTheRegionRefusesTheWholeCommand() {
    PrewriteResponse r = twin.prewrite(10, "b", put("b", "1"), put("z", "2"));
    KvError e = r.getRegionError();
    assertThat(e.getKindCase()).isEqualTo(KvError.KindCase.KEY_NOT_IN_REGION);
    assertThat(twin.count(Cf.LOCK)).isZero();
  }
}
