package io.flotilla.region.peer;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.Region;
import java.util.Arrays;

/**
 * Byte-order key arithmetic for regions. Keys compare as unsigned bytes; an empty start key is
 * minus infinity and an empty end key plus infinity. Stateless.
 */
public final class KeyRange {
  private KeyRange() {}

  public static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }

  /** Whether {@code key} lies in {@code [region.start, region.end)}. */
  public static boolean contains(Region r, byte[] key) {
    return contains(r.getStartKey().toByteArray(), r.getEndKey().toByteArray(), key);
  }

  public static boolean contains(byte[] start, byte[] end, byte[] key) {
    return compare(key, start) >= 0 && (end.length == 0 || compare(key, end) < 0);
  }

  public static boolean contains(Region r, ByteString key) {
    return contains(r, key.toByteArray());
  }

  /** The larger of two start keys. */
  public static byte[] maxStart(byte[] a, byte[] b) {
    return compare(a, b) >= 0 ? a : b;
  }

  /** The smaller of two end keys (empty = plus infinity). */
  public static byte[] minEnd(byte[] a, byte[] b) {
    if (a.length == 0) {
      return b;
    }
    if (b.length == 0) {
      return a;
    }
    return compare(a, b) <= 0 ? a : b;
  }

  /** Whether {@code [start, end)} holds no key (end empty = plus infinity). */
  public static boolean isEmpty(byte[] start, byte[] end) {
    return end.length != 0 && compare(start, end) >= 0;
  }

  /** Whether two ranges share a key. */
  public static boolean overlaps(byte[] s1, byte[] e1, byte[] s2, byte[] e2) {
    return !isEmpty(maxStart(s1, s2), minEnd(e1, e2));
  }

  public static boolean overlaps(Region a, Region b) {
    return overlaps(a.getStartKey().toByteArray(), a.getEndKey().toByteArray(), b.getStartKey().toByteArray(),
        b.getEndKey().toByteArray());
  }

  /**
   * The parts of {@code [start, end)} that none of {@code others} covers, in key order, each as
   * {@code {start, end}} (end empty = plus infinity).
   */
  public static java.util.List<byte[][]> subtract(byte[] start, byte[] end, java.util.List<Region> others) {
    java.util.List<Region> sorted = new java.util.ArrayList<>(others);
    sorted.sort((a, b) -> compare(a.getStartKey().toByteArray(), b.getStartKey().toByteArray()));
    java.util.List<byte[][]> out = new java.util.ArrayList<>();
    byte[] cur = start;
    for (Region o : sorted) {
      byte[] os = o.getStartKey().toByteArray();
      byte[] oe = o.getEndKey().toByteArray();
      if (!overlaps(cur, end, os, oe)) {
        continue;
      }
      if (compare(os, cur) > 0) {
        out.add(new byte[][] {cur, os});
      }
      if (oe.length == 0) {
        return out;
      }
      cur = maxStart(cur, oe);
    }
    if (!isEmpty(cur, end)) {
      out.add(new byte[][] {cur, end});
    }
    return out;
  }

  /** The smallest key greater than {@code key}: {@code key ++ 0x00}. */
  public static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }
}
