package io.flotilla.region.split;

import io.flotilla.engine.proto.Region;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvReader;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.txn.MvccKeys;
import java.util.Arrays;

/**
 * Measures a region's data by scanning its range: bytes (keys + values), key count and the key at
 * the middle of the bytes, the split key. Used at load or first leadership and after a split, when
 * the running estimate is unknown; writes are added to the estimate as they are applied.
 *
 * <p>Raw data and transaction data both count: {@code data} over {@code [start, end)}, and the
 * transaction families over {@code [mc(start), mc(end))}. The middle key is taken from whichever of
 * the two holds more bytes: {@code data}, or the values of committed and pending transactions
 * ({@code version}, or {@code write} when it has none), decoded back to a user key.
 *
 * <p>Any thread (every pass reads one {@link KvSnapshot}).
 */
public final class SplitScan {
  /** The measurements; {@code middleKey} is null when the region holds fewer than two keys. */
  public record Result(long bytes, long keys, byte[] middleKey) {}

  private SplitScan() {}

  public static Result scan(KvReader reader, Region region) {
    byte[] start = region.getStartKey().toByteArray();
    byte[] end = region.getEndKey().toByteArray();
    byte[] txnStart = MvccKeys.rangeStart(region);
    byte[] txnEnd = MvccKeys.rangeEnd(region);
    try (KvSnapshot snap = reader.snapshot()) {
      long[] data = measure(snap, Cf.DATA, start, end);
      long[] txn = {0, 0};
      long[] version = null;
      long[] write = null;
      for (Cf cf : Cf.TXN) {
        long[] m = measure(snap, cf, txnStart, txnEnd);
        txn[0] += m[0];
        txn[1] += m[1];
        if (cf == Cf.VERSION) {
          version = m;
        } else if (cf == Cf.WRITE) {
          write = m;
        }
      }
      long bytes = data[0] + txn[0];
      long keys = data[1] + txn[1];
      byte[] middle;
      if (data[0] >= txn[0]) {
        middle = data[1] < 2 ? null : middle(snap, Cf.DATA, start, end, data[0] / 2, false);
      } else if (version[1] > 0) {
        middle = middle(snap, Cf.VERSION, txnStart, txnEnd, version[0] / 2, true);
      } else {
        middle = middle(snap, Cf.WRITE, txnStart, txnEnd, write[0] / 2, true);
      }
      return new Result(bytes, keys, middle);
    }
  }

  /** Bytes and keys of {@code [lower, upper)} in {@code cf}. */
  private static long[] measure(KvSnapshot snap, Cf cf, byte[] lower, byte[] upper) {
    long[] total = {0, 0};
    snap.scan(cf, lower, upper, at -> {
      total[0] += at.key().length + at.value().length;
      total[1]++;
      return true;
    });
    return total;
  }

  /**
   * The first (user) key past {@code half} of the bytes, never the first one; null if none. With
   * {@code mvcc}, keys are transaction keys and several may be versions of one user key.
   */
  private static byte[] middle(KvSnapshot snap, Cf cf, byte[] lower, byte[] upper, long half, boolean mvcc) {
    long[] seen = {0};
    byte[][] first = {null};
    byte[][] middle = {null};
    snap.scan(cf, lower, upper, at -> {
      byte[] k = at.key();
      byte[] user = mvcc ? MvccKeys.userKeyOf(k) : k;
      if (first[0] == null) {
        first[0] = user;
      } else if (seen[0] >= half && !Arrays.equals(user, first[0])) {
        middle[0] = user;
        return false;
      }
      seen[0] += k.length + at.value().length;
      return true;
    });
    return middle[0];
  }
}
