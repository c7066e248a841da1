package io.flotilla.tools.ctl;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.OperatorState;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.StoreState;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;

/**
 * How ctl shows and reads keys, sizes, ages and enum values.
 *
 * <p>Keys: printable ASCII shows as itself; anything else, and text that could be mistaken for
 * hex or an end marker ({@code 0x...}, {@code -inf}, {@code +inf}), shows as {@code 0x} and hex.
 * {@link #parseKey} reads both forms back, so any key ctl prints can be pasted into a command.
 */
final class Format {
  private static final HexFormat HEX = HexFormat.of();

  private Format() {}

  /** A region start key: empty is minus infinity. */
  static String startKey(ByteString key) {
    return key.isEmpty() ? "-inf" : key(key.toByteArray());
  }

  /** A region end key: empty is plus infinity. */
  static String endKey(ByteString key) {
    return key.isEmpty() ? "+inf" : key(key.toByteArray());
  }

  static String key(byte[] key) {
    boolean printable = key.length > 0;
    for (byte b : key) {
      printable &= b >= 0x20 && b < 0x7f;
    }
    String text = new String(key, StandardCharsets.US_ASCII);
    if (printable && !text.startsWith("0x") && !text.equals("-inf") && !text.equals("+inf")) {
      return text;
    }
    return "0x" + HEX.formatHex(key);
  }

  /** A key typed by a person: {@code 0x} and an even number of hex digits, or UTF-8 text. */
  static byte[] parseKey(String s) {
    if (s.length() > 2 && s.length() % 2 == 0 && (s.startsWith("0x") || s.startsWith("0X"))) {
      try {
        return HEX.parseHex(s.substring(2));
      } catch (IllegalArgumentException e) {
        // not hex: text
      }
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String hex(ByteString key) {
    return HEX.formatHex(key.toByteArray());
  }

  /** 0 B, 512 B, 1.5 KiB, 96.0 MiB, ... */
  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** How long ago wall-clock {@code thenMs} was: "3s ago", "5m ago", "2h ago", "4d ago"; "never" for 0. */
  static String ago(long thenMs, long nowMs) {
    if (thenMs <= 0) {
      return "never";
    }
    return duration(Math.max(0, nowMs - thenMs)) + " ago";
  }

  static String duration(long ms) {
    long s = ms / 1000;
    if (s < 1) {
      return ms + "ms";
    }
    if (s < 120) {
      return s + "s";
    }
    if (s < 7200) {
      return s / 60 + "m";
    }
    if (s < 2 * 86400) {
      return s / 3600 + "h";
    }
    return s / 86400 + "d";
  }

  /** Up, Offline, Tombstone. */
  static String state(StoreState s) {
    return switch (s) {
      case STORE_STATE_UP -> "Up";
      case STORE_STATE_OFFLINE -> "Offline";
      case STORE_STATE_TOMBSTONE -> "Tombstone";
      default -> s.name();
    };
  }

  static String role(PeerRole r) {
    return switch (r) {
      case PEER_ROLE_VOTER -> "voter";
      case PEER_ROLE_LEARNER -> "learner";
      case PEER_ROLE_INCOMING_VOTER -> "incoming-voter";
      case PEER_ROLE_DEMOTING_VOTER -> "demoting-voter";
      default -> r.name().toLowerCase(Locale.ROOT);
    };
  }

  /** {@code id@store(role)}. */
  static String peer(Peer p) {
    return p.getId() + "@" + p.getStoreId() + "(" + role(p.getRole()) + ")";
  }

  static String kind(OperatorKind k) {
    return lowerDashed(k.name(), "OPERATOR_KIND_");
  }

  static String state(OperatorState s) {
    return lowerDashed(s.name(), "OPERATOR_STATE_");
  }

  private static String lowerDashed(String name, String prefix) {
    String n = name.startsWith(prefix) ? name.substring(prefix.length()) : name;
    return n.toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
