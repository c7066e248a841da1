package io.flotilla.region.txn;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.KeyNotInRegion;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.txn.CheckTxnStatusRequest;
import io.flotilla.engine.proto.txn.CheckTxnStatusResponse;
import io.flotilla.engine.proto.txn.CommitRequest;
import io.flotilla.engine.proto.txn.CommitResponse;
import io.flotilla.engine.proto.txn.Lock;
import io.flotilla.engine.proto.txn.MutationKind;
import io.flotilla.engine.proto.txn.PrewriteRequest;
import io.flotilla.engine.proto.txn.PrewriteResponse;
import io.flotilla.engine.proto.txn.ResolveLockRequest;
import io.flotilla.engine.proto.txn.ResolveLockResponse;
import io.flotilla.engine.proto.txn.RollbackRequest;
import io.flotilla.engine.proto.txn.RollbackResponse;
import io.flotilla.engine.proto.txn.TxnAborted;
import io.flotilla.engine.proto.txn.TxnCommand;
import io.flotilla.engine.proto.txn.TxnCommandResponse;
import io.flotilla.engine.proto.txn.TxnCommitted;
import io.flotilla.engine.proto.txn.TxnError;
import io.flotilla.engine.proto.txn.TxnHeartbeatRequest;
import io.flotilla.engine.proto.txn.TxnHeartbeatResponse;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.engine.proto.txn.TxnNotFound;
import io.flotilla.engine.proto.txn.TxnStatus;
import io.flotilla.engine.proto.txn.Write;
import io.flotilla.engine.proto.txn.WriteConflict;
import io.flotilla.engine.proto.txn.WriteKind;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies one {@link TxnCommand} (Percolator, as docs/transactions.md and txn.proto say) to a
 * region, deciding from the state as applied: every replica applies the same commands to the same
 * state with the same {@code now_ms} (the proposer's clock), so every replica decides the same.
 *
 * <p>A command writes all of its keys or none: its writes go to a child of the apply call's
 * {@link TxnOverlay} and reach the batch only if it succeeds. Reads see the commands before it in
 * the same apply call through that overlay.
 *
 * <table>
 *   <caption>What each command does per key (S = start_ts, C = commit_ts)</caption>
 *   <tr><th>command</th><th>lock of S</th><th>record of S</th><th>otherwise</th></tr>
 *   <tr><td>prewrite</td><td>done already</td><td>rollback: Aborted; commit: done already</td>
 *       <td>lock of another: Locked; a commit of another at or after S: WriteConflict; else lock
 *       (or, one-phase, commit record at C) and value</td></tr>
 *   <tr><td>commit</td><td>commit record at C, lock goes</td><td>rollback: Aborted; commit: done</td>
 *       <td>TxnNotFound</td></tr>
 *   <tr><td>rollback</td><td>lock and value go, rollback record at S</td><td>commit: Committed;
 *       rollback: done</td><td>rollback record at S</td></tr>
 *   <tr><td>check status (primary)</td><td>alive, or past its TTL by now_ms: rolled back if asked</td>
 *       <td>committed or rolled back</td><td>rolled back if asked, else TxnNotFound</td></tr>
 *   <tr><td>resolve</td><td>commit at C, or roll back (C = 0)</td><td colspan=2>left alone</td></tr>
 *   <tr><td>heartbeat (primary)</td><td>TTL extended from now_ms</td><td>Committed or Aborted</td>
 *       <td>TxnNotFound</td></tr>
 * </table>
 *
 * <p>The applying thread of the region only.
 */
public final class TxnApplier {
  /** A command's answer, and the bytes and keys it wrote (for the region's size estimate). */
  public record Applied(TxnCommandResponse response, long bytes, long keys) {}

  private final Region region;
  private final TxnOverlay view;
  private final long now;
  private long bytes;
  private long keys;

  private TxnApplier(Region region, TxnOverlay view, long nowMs) {
    this.region = region;
    this.view = view;
    this.now = nowMs;
  }

  /** Applies {@code cmd} to {@code region}: reads through {@code callOverlay}, writes (if it succeeds) to it and {@code batch}. */
  public static Applied apply(Region region, TxnCommand cmd, TxnOverlay callOverlay, StorageBatch batch) {
    TxnOverlay mine = callOverlay.child();
    TxnApplier a = new TxnApplier(region, mine, cmd.getNowMs());
    TxnCommandResponse.Builder r = TxnCommandResponse.newBuilder();
    boolean ok;
    try {
      switch (cmd.getCmdCase()) {
        case PREWRITE -> {
          PrewriteResponse p = a.prewrite(cmd.getPrewrite());
          r.setPrewrite(p);
          ok = !p.hasError() && !p.hasRegionError();
        }
        case COMMIT -> {
          CommitResponse p = a.commit(cmd.getCommit());
          r.setCommit(p);
          ok = !p.hasError() && !p.hasRegionError();
        }
        case ROLLBACK -> {
          RollbackResponse p = a.rollback(cmd.getRollback());
          r.setRollback(p);
          ok = !p.hasError() && !p.hasRegionError();
        }
        case CHECK_STATUS -> {
          CheckTxnStatusResponse p = a.checkStatus(cmd.getCheckStatus());
          r.setCheckStatus(p);
          ok = !p.hasError() && !p.hasRegionError();
        }
        case RESOLVE_LOCK -> {
          ResolveLockResponse p = a.resolveLock(cmd.getResolveLock());
          r.setResolveLock(p);
          ok = !p.hasError() && !p.hasRegionError();
        }
        case HEARTBEAT -> {
          TxnHeartbeatResponse p = a.heartbeat(cmd.getHeartbeat());
          r.setHeartbeat(p);
          ok = !p.hasError() && !p.hasRegionError();
        }
        default -> {
          // NB: a newer proposer's command this build does not know: every replica refuses it alike.
          return new Applied(TxnCommandResponse.getDefaultInstance(), 0, 0);
        }
      }
    } catch (Refused e) {
      return new Applied(regionError(cmd, e.error), 0, 0);
    }
    if (!ok) {
      return new Applied(r.build(), 0, 0);
    }
    mine.commitTo(batch);
    return new Applied(r.build(), a.bytes, a.keys);
  }

  /** A region error found while applying (a key outside the region): the whole command is refused. */
  private static final class Refused extends RuntimeException {
    final KvError error;

    Refused(KvError error) {
      super(error.getMessage(), null, false, false);
      this.error = error;
    }
  }

  /** The answer to {@code cmd} carrying only {@code error} as its region error. */
  public static TxnCommandResponse regionError(TxnCommand cmd, KvError error) {
    TxnCommandResponse.Builder r = TxnCommandResponse.newBuilder();
    switch (cmd.getCmdCase()) {
      case PREWRITE -> r.setPrewrite(PrewriteResponse.newBuilder().setRegionError(error));
      case COMMIT -> r.setCommit(CommitResponse.newBuilder().setRegionError(error));
      case ROLLBACK -> r.setRollback(RollbackResponse.newBuilder().setRegionError(error));
      case CHECK_STATUS -> r.setCheckStatus(CheckTxnStatusResponse.newBuilder().setRegionError(error));
      case RESOLVE_LOCK -> r.setResolveLock(ResolveLockResponse.newBuilder().setRegionError(error));
      case HEARTBEAT -> r.setHeartbeat(TxnHeartbeatResponse.newBuilder().setRegionError(error));
      default -> {
        // unknown command: an empty answer
      }
    }
    return r.build();
  }

  // ------------------------------------------------------------------ prewrite

  private PrewriteResponse prewrite(PrewriteRequest req) {
    long start = req.getStartTs();
    TxnError invalid = start == 0 ? invalid("prewrite without start_ts")
        : req.getTryOnePhase() && req.getCommitTs() <= start
            ? invalid("one-phase prewrite needs commit_ts > start_ts " + start + ", got " + req.getCommitTs())
            : null;
    if (invalid != null) {
      return PrewriteResponse.newBuilder().setError(invalid).build();
    }
    List<TxnMutation> todo = new ArrayList<>(req.getMutationsCount());
    long committedAt = 0;
    for (TxnMutation m : req.getMutationsList()) {
      byte[] key = inRegion(m.getKey());
      if (m.getKind() == MutationKind.UNRECOGNIZED) {
        return PrewriteResponse.newBuilder().setError(invalid("mutation kind " + m.getKindValue() + " is unknown"))
            .build();
      }
      byte[] enc = Memcomparable.encode(key);
      Lock l = MvccReader.lock(view, enc);
      if (l != null) {
        if (l.getStartTs() == start) {
          continue; // prewritten already (a retry)
        }
        return PrewriteResponse.newBuilder().setError(MvccReader.lockedError(MvccReader.lockInfo(l, key))).build();
      }
      MvccReader.WriteRecord conflict = null;
      MvccReader.WriteRecord own = null;
      for (MvccReader.WriteRecord w : MvccReader.writesSince(view, enc, start)) {
        if (w.write().getStartTs() == start) {
          own = w;
          break;
        }
        if (conflict == null && !w.isRollback()) {
          conflict = w;
        }
      }
      if (own != null && own.isRollback()) {
        return PrewriteResponse.newBuilder().setError(aborted(start, key)).build();
      }
      if (own != null) {
        committedAt = own.commitTs(); // committed already (a retry after its commit)
        continue;
      }
      if (conflict != null) {
        return PrewriteResponse.newBuilder().setError(TxnError.newBuilder()
            .setMessage("write conflict: transaction " + conflict.write().getStartTs() + " committed the key at "
                + conflict.commitTs() + ", after start_ts " + start)
            .setWriteConflict(WriteConflict.newBuilder().setKey(m.getKey()).setStartTs(start)
                .setConflictStartTs(conflict.write().getStartTs()).setConflictCommitTs(conflict.commitTs())
                .setPrimary(req.getPrimary()))).build();
      }
      todo.add(m);
    }
    for (TxnMutation m : todo) {
      byte[] key = m.getKey().toByteArray();
      byte[] enc = Memcomparable.encode(key);
      if (m.getKind() == MutationKind.MUTATION_PUT) {
        putCounted(Cf.VERSION, MvccKeys.appendTs(enc, start), m.getValue().toByteArray());
      }
      if (req.getTryOnePhase()) {
        putWrite(enc, req.getCommitTs(), writeKind(m.getKind()), start);
      } else {
        view.put(Cf.LOCK, enc, Lock.newBuilder().setPrimary(req.getPrimary()).setStartTs(start)
            .setTtlMs(req.getTtlMs()).setKind(m.getKind()).setLockTimeMs(now).setTxnSize(req.getTxnSize())
            .build().toByteArray());
      }
    }
    PrewriteResponse.Builder b = PrewriteResponse.newBuilder();
    if (req.getTryOnePhase()) {
      b.setOnePhaseCommitTs(todo.isEmpty() && committedAt != 0 ? committedAt : req.getCommitTs());
    }
    return b.build();
  }

  // ------------------------------------------------------------------ commit, rollback

  private CommitResponse commit(CommitRequest req) {
    long start = req.getStartTs();
    if (req.getCommitTs() <= start) {
      return CommitResponse.newBuilder().setError(invalid("commit_ts " + req.getCommitTs()
          + " is not after start_ts " + start)).build();
    }
    for (ByteString k : req.getKeysList()) {
      byte[] key = inRegion(k);
      byte[] enc = Memcomparable.encode(key);
      Lock l = MvccReader.lock(view, enc);
      if (l != null && l.getStartTs() == start) {
        commitLock(enc, l, req.getCommitTs());
        continue;
      }
      MvccReader.WriteRecord own = MvccReader.recordOf(view, enc, start);
      if (own == null) {
        return CommitResponse.newBuilder().setError(TxnError.newBuilder()
            .setMessage("transaction " + start + " has neither a lock nor a record on the key: it was rolled back"
                + " (expired) or never prewritten")
            .setTxnNotFound(TxnNotFound.newBuilder().setStartTs(start).setKey(k))).build();
      }
      if (own.isRollback()) {
        return CommitResponse.newBuilder().setError(aborted(start, key)).build();
      }
      // committed already: idempotent
    }
    return CommitResponse.getDefaultInstance();
  }

  private RollbackResponse rollback(RollbackRequest req) {
    long start = req.getStartTs();
    for (ByteString k : req.getKeysList()) {
      byte[] key = inRegion(k);
      TxnError e = rollbackKey(Memcomparable.encode(key), key, start);
      if (e != null) {
        return RollbackResponse.newBuilder().setError(e).build();
      }
    }
    return RollbackResponse.getDefaultInstance();
  }

  /** Rolls back {@code start} on one key (see {@link RollbackRequest}); an error if it committed there. */
  private TxnError rollbackKey(byte[] enc, byte[] key, long start) {
    Lock l = MvccReader.lock(view, enc);
    if (l != null && l.getStartTs() == start) {
      removeLock(enc, start);
      putRollback(enc, start);
      return null;
    }
    MvccReader.WriteRecord own = MvccReader.recordOf(view, enc, start);
    if (own == null) {
      putRollback(enc, start); // a late prewrite of start must fail
      return null;
    }
    if (own.isRollback()) {
      return null;
    }
    return committed(start, own.commitTs(), key);
  }

  // ------------------------------------------------------------------ status, resolve, heartbeat

  private CheckTxnStatusResponse checkStatus(CheckTxnStatusRequest req) {
    long start = req.getStartTs();
    byte[] key = inRegion(req.getPrimary());
    byte[] enc = Memcomparable.encode(key);
    CheckTxnStatusResponse.Builder b = CheckTxnStatusResponse.newBuilder();
    Lock l = MvccReader.lock(view, enc);
    if (l != null && l.getStartTs() == start) {
      long left = ttlLeft(l);
      if (left > 0 || !req.getRollbackIfExpired()) {
        return b.setStatus(TxnStatus.TXN_LOCKED).setLockTtlMs(left).build();
      }
      removeLock(enc, start);
      putRollback(enc, start);
      return b.setStatus(TxnStatus.TXN_ROLLED_BACK).build();
    }
    MvccReader.WriteRecord own = MvccReader.recordOf(view, enc, start);
    if (own != null) {
      return own.isRollback() ? b.setStatus(TxnStatus.TXN_ROLLED_BACK).build()
          : b.setStatus(TxnStatus.TXN_COMMITTED).setCommitTs(own.commitTs()).build();
    }
    if (req.getRollbackIfExpired()) {
      putRollback(enc, start); // its prewrite may still come, and must fail
      return b.setStatus(TxnStatus.TXN_ROLLED_BACK).build();
    }
    return b.setError(notFound(start, req.getPrimary())).build();
  }

  /** The TTL {@code l} has left by the proposer's clock; 0 once {@code now} is past lock_time + ttl. */
  private long ttlLeft(Lock l) {
    long expiresAt = l.getLockTimeMs() + l.getTtlMs();
    return now > expiresAt ? 0 : Math.max(1, expiresAt - now);
  }

  private ResolveLockResponse resolveLock(ResolveLockRequest req) {
    long start = req.getStartTs();
    long commitTs = req.getCommitTs();
    if (commitTs != 0 && commitTs <= start) {
      return ResolveLockResponse.newBuilder().setError(invalid("commit_ts " + commitTs + " is not after start_ts "
          + start)).build();
    }
    List<byte[]> encs = new ArrayList<>();
    List<Lock> locks = new ArrayList<>();
    if (req.getKeysCount() == 0) {
      view.scan(Cf.LOCK, MvccKeys.rangeStart(region), MvccKeys.rangeEnd(region), at -> {
        Lock l = MvccReader.parseLock(at.value());
        if (l.getStartTs() == start) {
          encs.add(at.key());
          locks.add(l);
        }
        return true;
      });
    } else {
      for (ByteString k : req.getKeysList()) {
        byte[] enc = Memcomparable.encode(inRegion(k));
        Lock l = MvccReader.lock(view, enc);
        if (l != null && l.getStartTs() == start) {
          encs.add(enc);
          locks.add(l);
        }
      }
    }
    for (int i = 0; i < encs.size(); i++) {
      if (commitTs != 0) {
        commitLock(encs.get(i), locks.get(i), commitTs);
      } else {
        removeLock(encs.get(i), start);
        putRollback(encs.get(i), start);
      }
    }
    return ResolveLockResponse.getDefaultInstance();
  }

  private TxnHeartbeatResponse heartbeat(TxnHeartbeatRequest req) {
    long start = req.getStartTs();
    byte[] key = inRegion(req.getPrimary());
    byte[] enc = Memcomparable.encode(key);
    Lock l = MvccReader.lock(view, enc);
    if (l == null || l.getStartTs() != start) {
      MvccReader.WriteRecord own = MvccReader.recordOf(view, enc, start);
      TxnError e = own == null ? notFound(start, req.getPrimary())
          : own.isRollback() ? aborted(start, key) : committed(start, own.commitTs(), key);
      return TxnHeartbeatResponse.newBuilder().setError(e).build();
    }
    long expiresAt = Math.max(l.getLockTimeMs() + l.getTtlMs(), now + req.getTtlMs());
    long ttl = Math.max(0, expiresAt - now);
    view.put(Cf.LOCK, enc, l.toBuilder().setLockTimeMs(now).setTtlMs(ttl).build().toByteArray());
    return TxnHeartbeatResponse.newBuilder().setLockTtlMs(ttl).build();
  }

  // ------------------------------------------------------------------ writes

  /** The lock of {@code enc} becomes a commit record at {@code commitTs}. */
  private void commitLock(byte[] enc, Lock l, long commitTs) {
    view.delete(Cf.LOCK, enc);
    putWrite(enc, commitTs, writeKind(l.getKind()), l.getStartTs());
  }

  /** The lock of {@code start} on {@code enc} goes, with the value it prewrote. */
  private void removeLock(byte[] enc, long start) {
    view.delete(Cf.LOCK, enc);
    view.delete(Cf.VERSION, MvccKeys.appendTs(enc, start));
    keys++;
  }

  /**
   * A rollback record of {@code start}. NB: not over a commit record of another transaction at
   * the same timestamp (TSO timestamps are unique, so only a broken clock gets here): a late
   * prewrite of {@code start} then fails on that record as a write conflict anyway.
   */
  private void putRollback(byte[] enc, long start) {
    byte[] k = MvccKeys.appendTs(enc, start);
    if (view.get(Cf.WRITE, k) == null) {
      putWrite(enc, start, WriteKind.WRITE_ROLLBACK, start);
    }
  }

  private void putWrite(byte[] enc, long ts, WriteKind kind, long start) {
    putCounted(Cf.WRITE, MvccKeys.appendTs(enc, ts),
        Write.newBuilder().setKind(kind).setStartTs(start).build().toByteArray());
  }

  private void putCounted(Cf cf, byte[] key, byte[] value) {
    view.put(cf, key, value);
    bytes += key.length + value.length;
    keys++;
  }

  private static WriteKind writeKind(MutationKind k) {
    return switch (k) {
      case MUTATION_PUT -> WriteKind.WRITE_PUT;
      case MUTATION_DELETE -> WriteKind.WRITE_DELETE;
      case MUTATION_LOCK -> WriteKind.WRITE_LOCK;
      default -> throw new IllegalStateException("a lock of kind " + k + " cannot commit");
    };
  }

  // ------------------------------------------------------------------ checks and errors

  private byte[] inRegion(ByteString k) {
    if (KeyRange.contains(region, k)) {
      return k.toByteArray();
    }
    throw new Refused(KvError.newBuilder().setMessage("key not in region " + region.getId())
        .setKeyNotInRegion(KeyNotInRegion.newBuilder().setKey(k).setRegionId(region.getId())
            .setStartKey(region.getStartKey()).setEndKey(region.getEndKey())).build());
  }

  private static TxnError invalid(String message) {
    return TxnError.newBuilder().setMessage("invalid request: " + message + "; nothing was written").build();
  }

  private static TxnError aborted(long start, byte[] key) {
    return TxnError.newBuilder().setMessage("transaction " + start + " was rolled back on the key")
        .setAborted(TxnAborted.newBuilder().setStartTs(start).setKey(ByteString.copyFrom(key))).build();
  }

  private static TxnError committed(long start, long commitTs, byte[] key) {
    return TxnError.newBuilder().setMessage("transaction " + start + " committed the key at " + commitTs)
        .setCommitted(TxnCommitted.newBuilder().setStartTs(start).setCommitTs(commitTs)
            .setKey(ByteString.copyFrom(key))).build();
  }

  private static TxnError notFound(long start, ByteString key) {
    return TxnError.newBuilder().setMessage("transaction " + start + " has neither a lock nor a record on the key")
        .setTxnNotFound(TxnNotFound.newBuilder().setStartTs(start).setKey(key)).build();
  }
}
