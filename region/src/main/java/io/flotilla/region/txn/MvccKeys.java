package io.flotilla.region.txn;

import io.flotilla.engine.proto.Region;
import java.util.Arrays;

/**
 * The key layout of the transaction column families ({@code mc} is {@link Memcomparable}, {@code
 * ~ts} the bitwise complement of a timestamp, 8 bytes big-endian, so the newest sorts first):
 *
 * <table>
 *   <caption>MVCC keys</caption>
 *   <tr><th>family</th><th>key</th><th>value</th></tr>
 *   <tr><td>{@code lock}</td><td>{@code mc(key)}</td><td>{@code txn.Lock}</td></tr>
 *   <tr><td>{@code write}</td><td>{@code mc(key) ++ ~commit_ts} (a rollback record: {@code ~start_ts})</td>
 *       <td>{@code txn.Write}</td></tr>
 *   <tr><td>{@code version}</td><td>{@code mc(key) ++ ~start_ts}</td><td>the value</td></tr>
 * </table>
 *
 * A region {@code [start, end)} is {@code [mc(start), mc(end))} in each family (empty start: from
 * the first key, empty end: to the last), see {@link #rangeStart} and {@link #rangeEnd}.
 *
 * <p>Stateless.
 */
public final class MvccKeys {
  static final int TS_BYTES = 8;

  private MvccKeys() {}

  public static byte[] lockKey(byte[] userKey) {
    return Memcomparable.encode(userKey);
  }

  public static byte[] writeKey(byte[] userKey, long commitTs) {
    return withTs(userKey, commitTs);
  }

  public static byte[] versionKey(byte[] userKey, long startTs) {
    return withTs(userKey, startTs);
  }

  /** {@code mc(userKey) ++ ~ts}. */
  static byte[] withTs(byte[] userKey, long ts) {
    byte[] out = Memcomparable.encode(userKey, TS_BYTES);
    putTs(out, out.length - TS_BYTES, ts);
    return out;
  }

  /** {@code encodedKey ++ ~ts} for an already encoded key. */
  static byte[] appendTs(byte[] encodedKey, long ts) {
    byte[] out = Arrays.copyOf(encodedKey, encodedKey.length + TS_BYTES);
    putTs(out, encodedKey.length, ts);
    return out;
  }

  private static void putTs(byte[] out, int at, long ts) {
    long inv = ~ts;
    for (int i = 0; i < TS_BYTES; i++) {
      out[at + i] = (byte) (inv >>> (56 - 8 * i));
    }
  }

  /** The timestamp of a {@code write} or {@code version} key. */
  public static long tsOf(byte[] keyWithTs) {
    long inv = 0;
    for (int i = keyWithTs.length - TS_BYTES; i < keyWithTs.length; i++) {
      inv = inv << 8 | (keyWithTs[i] & 0xff);
    }
    return ~inv;
  }

  /** The encoded user key of a {@code write} or {@code version} key (its timestamp cut off). */
  static byte[] encodedKeyOf(byte[] keyWithTs) {
    return Arrays.copyOf(keyWithTs, keyWithTs.length - TS_BYTES);
  }

  /** The user key of a {@code write} or {@code version} key. */
  public static byte[] userKeyOf(byte[] keyWithTs) {
    return Memcomparable.decode(keyWithTs);
  }

  /** Whether {@code keyWithTs} is {@code encodedKey ++ ~ts} for some ts. */
  static boolean hasPrefix(byte[] keyWithTs, byte[] encodedKey) {
    return keyWithTs.length == encodedKey.length + TS_BYTES
        && Arrays.equals(keyWithTs, 0, encodedKey.length, encodedKey, 0, encodedKey.length);
  }

  /** The exclusive upper bound of every {@code encodedKey ++ ~ts}. */
  static byte[] prefixEnd(byte[] encodedKey) {
    // NB: encodings are prefix-free, so nothing but encodedKey's own versions lies below this.
    byte[] out = Arrays.copyOf(encodedKey, encodedKey.length + TS_BYTES + 1);
    Arrays.fill(out, encodedKey.length, encodedKey.length + TS_BYTES, (byte) 0xff);
    return out;
  }

  /** The lower bound of user range start {@code start} in a transaction family (empty: from the first key). */
  public static byte[] rangeStart(byte[] start) {
    return start.length == 0 ? new byte[0] : Memcomparable.encode(start);
  }

  /** The upper bound of user range end {@code end} in a transaction family (empty: to the last key). */
  public static byte[] rangeEnd(byte[] end) {
    return end.length == 0 ? new byte[0] : Memcomparable.encode(end);
  }

  public static byte[] rangeStart(Region r) {
    return rangeStart(r.getStartKey().toByteArray());
  }

  public static byte[] rangeEnd(Region r) {
    return rangeEnd(r.getEndKey().toByteArray());
  }
}
