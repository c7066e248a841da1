package io.flotilla.region.txn;

import java.util.Arrays;

/**
 * TiKV's memcomparable encoding of byte strings ({@code encode_bytes}, ascending): the key in
 * groups of 8 bytes, each followed by a marker byte; the last group is zero-padded and its marker
 * is {@code 0xFF - padding} (so {@code 0xF7..0xFE}), every other group's is {@code 0xFF}. A key of
 * {@code n} bytes takes {@code (n / 8 + 1) * 9}.
 *
 * <p>Two properties the MVCC layout relies on: the encoding preserves unsigned byte order
 * ({@code a < b} iff {@code mc(a) < mc(b)}), and no encoding is a prefix of another (a last group's
 * marker is never a middle group's), so {@code mc(a) ++ suffix} sorts exactly as {@code a} does,
 * whatever the suffix. Without it, {@code "a" ++ ts} could sort after {@code "ab"}.
 *
 * <p>Stateless.
 */
public final class Memcomparable {
  static final int GROUP = 8;
  static final int GROUP_WITH_MARKER = GROUP + 1;
  private static final int MARKER = 0xFF;

  private Memcomparable() {}

  /** The encoded length of a key of {@code n} bytes. */
  public static int encodedLength(int n) {
    return (n / GROUP + 1) * GROUP_WITH_MARKER;
  }

  public static byte[] encode(byte[] key) {
    return encode(key, 0);
  }

  /** The encoding of {@code key} with {@code extra} bytes of room after it (for a suffix). */
  public static byte[] encode(byte[] key, int extra) {
    byte[] out = new byte[encodedLength(key.length) + extra];
    int o = 0;
    for (int i = 0; i <= key.length; i += GROUP) {
      int remain = key.length - i;
      int take = Math.min(remain, GROUP);
      System.arraycopy(key, i, out, o, take);
      // padding bytes stay 0
      out[o + GROUP] = (byte) (MARKER - (GROUP - take));
      o += GROUP_WITH_MARKER;
    }
    return out;
  }

  /** The key encoded at the start of {@code encoded} (anything after it is ignored). */
  public static byte[] decode(byte[] encoded) {
    int len = decodedLength(encoded);
    byte[] key = new byte[len];
    int o = 0;
    for (int i = 0; o < len; i += GROUP_WITH_MARKER) {
      int take = Math.min(GROUP, len - o);
      System.arraycopy(encoded, i, key, o, take);
      o += take;
    }
    return key;
  }

  /** The number of bytes the encoded key at the start of {@code encoded} takes. */
  public static int encodedPrefixLength(byte[] encoded) {
    return encodedLength(decodedLength(encoded));
  }

  /**
   * The length of the key encoded at the start of {@code encoded}.
   *
   * @throws IllegalArgumentException if it is not a valid encoding (truncated, a bad marker, a
   *     padding byte not zero)
   */
  static int decodedLength(byte[] encoded) {
    int len = 0;
    for (int i = 0; ; i += GROUP_WITH_MARKER) {
      if (i + GROUP_WITH_MARKER > encoded.length) {
        throw new IllegalArgumentException("memcomparable key truncated after " + i + " of " + encoded.length
            + " bytes: " + Arrays.toString(encoded));
      }
      int marker = encoded[i + GROUP] & 0xff;
      int pad = MARKER - marker;
      if (pad == 0) {
        len += GROUP;
        continue;
      }
      if (pad > GROUP) {
        throw new IllegalArgumentException("memcomparable key has marker 0x" + Integer.toHexString(marker)
            + " at byte " + (i + GROUP));
      }
      for (int p = i + GROUP - pad; p < i + GROUP; p++) {
        if (encoded[p] != 0) {
          throw new IllegalArgumentException("memcomparable key has a non-zero padding byte at " + p);
        }
      }
      return len + GROUP - pad;
    }
  }
}
