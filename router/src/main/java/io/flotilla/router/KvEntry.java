package io.flotilla.router;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.flotilla.router.cache.Keys;
import java.util.Arrays;

/**
 * One key and its value, as a scan returns them. The arrays are copied in and out, so an entry
 * never changes; compares by content.
 */
public record KvEntry(byte[] key, byte[] value) {

  public KvEntry {
    if (key == null || value == null) {
      throw new IllegalArgumentException("key and value are required");
    }
    key = key.clone();
    value = value.clone();
  }

  public static KvEntry of(String key, String value) {
    return new KvEntry(key.getBytes(UTF_8), value.getBytes(UTF_8));
  }

  /** A copy of the key. */
  @Override
  public byte[] key() {
    return key.clone();
  }

  /** A copy of the value. */
  @Override
  public byte[] value() {
    return value.clone();
  }

  public String keyUtf8() {
    return new String(key, UTF_8);
  }

  public String valueUtf8() {
    return new String(value, UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KvEntry other && Arrays.equals(key, other.key)
        && Arrays.equals(value, other.value);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(key) + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "KvEntry{key=" + printable(key) + ", value=" + value.length + " bytes}";
  }

  /** The key as text when it is printable ASCII, in hex otherwise; for messages and logs. */
  static String printable(byte[] key) {
    return Keys.describe(key);
  }
}
