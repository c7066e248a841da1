package io.flotilla.router.cache;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;

/**
 * Key order and range arithmetic. Keys compare as unsigned bytes, lexicographically. In a range
 * bound an empty key is minus infinity as a start and plus infinity as an end.
 */
public final class Keys {

  public static final byte[] EMPTY = new byte[0];

  /** Unsigned lexicographic order, the order of the store. */
  public static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

  private Keys() {}

  public static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }

  /** The smallest key greater than {@code key}: {@code key + 0x00}. */
  public static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  /** The smaller of two end bounds (empty: plus infinity). */
  public static byte[] minEnd(byte[] a, byte[] b) {
    if (a.length == 0) {
      return b;
    }
    if (b.length == 0) {
      return a;
    }
    return compare(a, b) <= 0 ? a : b;
  }

  /** The larger of two start bounds (empty: minus infinity). */
  public static byte[] maxStart(byte[] a, byte[] b) {
    return compare(a, b) >= 0 ? a : b;
  }

  /** Whether {@code key} is before the end bound {@code end} (empty: plus infinity). */
  public static boolean beforeEnd(byte[] key, byte[] end) {
    return end.length == 0 || compare(key, end) < 0;
  }

  /** Whether end bound {@code a} reaches at least end bound {@code b} (empty: plus infinity). */
  public static boolean endCovers(byte[] a, byte[] b) {
    return a.length == 0 || (b.length != 0 && compare(a, b) >= 0);
  }

  /** For messages: printable ASCII as text, anything else in hex; empty as {@code ""}. */
  public static String describe(byte[] key) {
    for (byte b : key) {
      if (b < 0x20 || b > 0x7e) {
        return "0x" + HexFormat.of().formatHex(key);
      }
    }
    return "'" + new String(key, java.nio.charset.StandardCharsets.US_ASCII) + "'";
  }
}
