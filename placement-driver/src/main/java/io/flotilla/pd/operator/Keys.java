package io.flotilla.pd.operator;

import com.google.protobuf.ByteString;

/** Keys in log lines and descriptions. */
public final class Keys {
  private Keys() {}

  /** Printable ASCII as is, other bytes as \xNN, at most 64 bytes, quoted. */
  public static String toString(ByteString key) {
    StringBuilder sb = new StringBuilder("'");
    for (int i = 0; i < Math.min(key.size(), 64); i++) {
      int b = key.byteAt(i) & 0xff;
      if (b >= 0x20 && b < 0x7f && b != '\\' && b != '\'') {
        sb.append((char) b);
      } else {
        sb.append(String.format("\\x%02x", b));
      }
    }
    return sb.append(key.size() > 64 ? "...'" : "'").toString();
  }
}
