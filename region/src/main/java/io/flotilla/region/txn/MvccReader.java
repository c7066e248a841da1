package io.flotilla.region.txn;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.txn.Lock;
import io.flotilla.engine.proto.txn.LockInfo;
import io.flotilla.engine.proto.txn.MutationKind;
import io.flotilla.engine.proto.txn.TxnBatchGetResponse;
import io.flotilla.engine.proto.txn.TxnError;
import io.flotilla.engine.proto.txn.TxnGetResponse;
import io.flotilla.engine.proto.txn.TxnScanResponse;
import io.flotilla.engine.proto.txn.Write;
import io.flotilla.engine.proto.txn.WriteKind;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Snapshot-isolation reads at a timestamp over the transaction families ({@link MvccKeys}), and the
 * lookups the applier shares with them. A read at {@code ts}:
 *
 * <ol>
 *   <li>fails with {@code Locked} on a lock whose start_ts is at or before {@code ts} and whose kind
 *       is not LOCK (a prewrite that may commit before {@code ts}: the reader must resolve it);
 *   <li>takes the newest write record with commit_ts at or before {@code ts}, skipping rollback and
 *       lock records; none, or a delete: the key is absent;
 *   <li>reads the value the record's transaction wrote, at {@code version}: {@code mc(key) ++ ~start_ts}.
 * </ol>
 *
 * Timestamps are hybrid (physical ms {@code << 18}), far below 2^63: they compare as signed longs.
 *
 * <p>Stateless; any thread (a {@link KvSnapshot} one at a time).
 */
public final class MvccReader {
  /** A write record and where it is: its commit_ts (for a rollback record, the start_ts it rolls back). */
  record WriteRecord(long commitTs, Write write) {
    boolean isRollback() {
      return write.getKind() == WriteKind.WRITE_ROLLBACK;
    }
  }

  private MvccReader() {}

  public static TxnGetResponse get(KvSnapshot snap, byte[] key, long ts) {
    byte[] enc = Memcomparable.encode(key);
    LockInfo locked = blocking(lock(snap, enc), key, ts);
    if (locked != null) {
      return TxnGetResponse.newBuilder().setError(lockedError(locked)).build();
    }
    byte[] v = valueAt(snap, enc, ts);
    TxnGetResponse.Builder b = TxnGetResponse.newBuilder().setFound(v != null);
    if (v != null) {
      b.setValue(ByteString.copyFrom(v));
    }
    return b.build();
  }

  /** The keys found, in request order; a blocking lock on any key fails the whole call. */
  public static TxnBatchGetResponse batchGet(KvSnapshot snap, List<ByteString> keys, long ts) {
    TxnBatchGetResponse.Builder b = TxnBatchGetResponse.newBuilder();
    for (ByteString k : keys) {
      byte[] key = k.toByteArray();
      byte[] enc = Memcomparable.encode(key);
      LockInfo locked = blocking(lock(snap, enc), key, ts);
      if (locked != null) {
        return TxnBatchGetResponse.newBuilder().setError(lockedError(locked)).build();
      }
      byte[] v = valueAt(snap, enc, ts);
      if (v != null) {
        b.addPairs(KvPair.newBuilder().setKey(k).setValue(ByteString.copyFrom(v)));
      }
    }
    return b.build();
  }

  /**
   * Up to {@code limit} keys of {@code [start, end)} (end empty: to the end) visible at {@code ts},
   * ascending. A blocking lock on a key up to the last one returned (or anywhere in the range, if
   * fewer than {@code limit} came back) fails the call.
   */
  public static TxnScanResponse scan(KvSnapshot snap, byte[] start, byte[] end, int limit, long ts,
      boolean keysOnly) {
    byte[] lower = MvccKeys.rangeStart(start);
    byte[] upper = MvccKeys.rangeEnd(end);
    List<byte[]> keys = new ArrayList<>();
    List<Long> startTs = new ArrayList<>();
    if (limit > 0) {
      Decided d = new Decided();
      snap.scan(Cf.WRITE, lower, upper, at -> {
        byte[] k = at.key();
        int encLen = k.length - MvccKeys.TS_BYTES;
        if (d.enc != null && d.enc.length == encLen && Arrays.equals(d.enc, 0, encLen, k, 0, encLen)) {
          if (d.decided) {
            return true; // an older version of a key already decided
          }
        } else {
          d.enc = Arrays.copyOf(k, encLen);
          d.decided = false;
        }
        if (MvccKeys.tsOf(k) > ts) {
          return true;
        }
        Write w = parseWrite(at.value());
        if (w.getKind() == WriteKind.WRITE_ROLLBACK || w.getKind() == WriteKind.WRITE_LOCK) {
          return true;
        }
        d.decided = true;
        if (w.getKind() == WriteKind.WRITE_PUT) {
          keys.add(d.enc);
          startTs.add(w.getStartTs());
        }
        return keys.size() < limit;
      });
    }
    // Locks matter up to the last key returned: past it the caller's next page checks them.
    byte[] lockUpper = keys.size() == limit && limit > 0 ? successor(keys.get(keys.size() - 1)) : upper;
    LockInfo[] locked = {null};
    snap.scan(Cf.LOCK, lower, lockUpper, at -> {
      byte[] userKey = Memcomparable.decode(at.key());
      locked[0] = blocking(parseLock(at.value()), userKey, ts);
      return locked[0] == null;
    });
    if (locked[0] != null) {
      return TxnScanResponse.newBuilder().setError(lockedError(locked[0])).build();
    }
    TxnScanResponse.Builder b = TxnScanResponse.newBuilder();
    for (int i = 0; i < keys.size(); i++) {
      byte[] enc = keys.get(i);
      KvPair.Builder p = KvPair.newBuilder().setKey(ByteString.copyFrom(Memcomparable.decode(enc)));
      if (!keysOnly) {
        p.setValue(ByteString.copyFrom(version(snap, enc, startTs.get(i))));
      }
      b.addPairs(p);
    }
    return b.build();
  }

  private static final class Decided {
    byte[] enc;
    boolean decided;
  }

  private static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  /** The value of encoded key {@code enc} visible at {@code ts}, or null; locks are not looked at. */
  static byte[] valueAt(KvSnapshot snap, byte[] enc, long ts) {
    WriteRecord w = newestAtOrBefore(snap, enc, ts);
    if (w == null || w.write().getKind() != WriteKind.WRITE_PUT) {
      return null;
    }
    return version(snap, enc, w.write().getStartTs());
  }

  private static byte[] version(KvSnapshot snap, byte[] enc, long startTs) {
    byte[] v = snap.get(Cf.VERSION, MvccKeys.appendTs(enc, startTs));
    if (v == null) {
      throw new IllegalStateException("key " + Arrays.toString(Memcomparable.decode(enc)) + " has a write record of"
          + " start_ts " + startTs + " but no value: the version family lost it");
    }
    return v;
  }

  /** The newest put or delete record of {@code enc} with commit_ts at or before {@code ts}, or null. */
  static WriteRecord newestAtOrBefore(KvSnapshot snap, byte[] enc, long ts) {
    WriteRecord[] found = {null};
    snap.scan(Cf.WRITE, MvccKeys.appendTs(enc, ts), MvccKeys.prefixEnd(enc), at -> {
      Write w = parseWrite(at.value());
      if (w.getKind() == WriteKind.WRITE_PUT || w.getKind() == WriteKind.WRITE_DELETE) {
        found[0] = new WriteRecord(MvccKeys.tsOf(at.key()), w);
        return false;
      }
      return true;
    });
    return found[0];
  }

  /** The write records of {@code enc} with commit_ts at or after {@code sinceTs}, newest first. */
  static List<WriteRecord> writesSince(KvSnapshot snap, byte[] enc, long sinceTs) {
    List<WriteRecord> out = new ArrayList<>();
    snap.scan(Cf.WRITE, MvccKeys.appendTs(enc, -1L), successor(MvccKeys.appendTs(enc, sinceTs)), at -> {
      out.add(new WriteRecord(MvccKeys.tsOf(at.key()), parseWrite(at.value())));
      return true;
    });
    return out;
  }

  /** The record (commit or rollback) of the transaction {@code startTs} on {@code enc}, or null. */
  static WriteRecord recordOf(KvSnapshot snap, byte[] enc, long startTs) {
    for (WriteRecord w : writesSince(snap, enc, startTs)) {
      if (w.write().getStartTs() == startTs) {
        return w;
      }
    }
    return null;
  }

  /** The lock of encoded key {@code enc}, or null. */
  static Lock lock(KvSnapshot snap, byte[] enc) {
    byte[] v = snap.get(Cf.LOCK, enc);
    return v == null ? null : parseLock(v);
  }

  /** The lock's info if it blocks a read at {@code ts}, else null. */
  private static LockInfo blocking(Lock l, byte[] key, long ts) {
    if (l == null || l.getStartTs() > ts || l.getKind() == MutationKind.MUTATION_LOCK) {
      return null;
    }
    return lockInfo(l, key);
  }

  static LockInfo lockInfo(Lock l, byte[] key) {
    return LockInfo.newBuilder().setKey(ByteString.copyFrom(key)).setPrimary(l.getPrimary())
        .setStartTs(l.getStartTs()).setTtlMs(l.getTtlMs()).setKind(l.getKind()).build();
  }

  static TxnError lockedError(LockInfo l) {
    return TxnError.newBuilder().setMessage("key is locked by transaction " + l.getStartTs())
        .setLocked(l).build();
  }

  static Lock parseLock(byte[] v) {
    try {
      return Lock.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt lock record: " + e.getMessage(), e);
    }
  }

  static Write parseWrite(byte[] v) {
    try {
      return Write.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt write record: " + e.getMessage(), e);
    }
  }
}
