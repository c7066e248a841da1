package io.flotilla.bench.kv;

import java.nio.charset.StandardCharsets;

/**
 * The bench's keys: {@code user0000000000} to {@code user<keys - 1>}, fixed width, so that they
 * sort in index order and all have the same length. Stateless; any thread.
 */
final class KeySpace {
  static final String PREFIX = "user";
  static final int DIGITS = 10;
  /** Indexes must fit the digits. */
  static final long MAX_KEYS = 10_000_000_000L;
  private static final byte[] PREFIX_BYTES = PREFIX.getBytes(StandardCharsets.US_ASCII);

  private KeySpace() {}

  /** The key of {@code index}, e.g. {@code user0000000042}; a new array each call. */
  static byte[] key(long index) {
    if (index < 0 || index >= MAX_KEYS) {
      throw new IllegalArgumentException("key index must be in [0, " + MAX_KEYS + "), got " + index);
    }
    byte[] k = new byte[PREFIX_BYTES.length + DIGITS];
    System.arraycopy(PREFIX_BYTES, 0, k, 0, PREFIX_BYTES.length);
    long v = index;
    for (int i = k.length - 1; i >= PREFIX_BYTES.length; i--) {
      k[i] = (byte) ('0' + v % 10);
      v /= 10;
    }
    return k;
  }

  /** The key of {@code index} as text, for messages. */
  static String name(long index) {
    return new String(key(index), StandardCharsets.US_ASCII);
  }

  static int keyBytes() {
    return PREFIX_BYTES.length + DIGITS;
  }
}
