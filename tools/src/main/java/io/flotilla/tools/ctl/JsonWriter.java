package io.flotilla.tools.ctl;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * Writes one JSON document for {@code flotilla ctl --json}: maps (keys in the map's order),
 * collections, strings, booleans, integers and null, nested to any depth, indented by two spaces.
 * Anything else is written as its {@code toString()} in quotes.
 */
final class JsonWriter {
  private JsonWriter() {}

  static String write(Object value) {
    StringBuilder sb = new StringBuilder();
    append(sb, value, 0);
    return sb.append('\n').toString();
  }

  private static void append(StringBuilder sb, Object v, int depth) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Map<?, ?> m) {
      appendObject(sb, m, depth);
    } else if (v instanceof Collection<?> c) {
      appendArray(sb, c, depth);
    } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
      sb.append(v);
    } else {
      quote(sb, v.toString());
    }
  }

  private static void appendObject(StringBuilder sb, Map<?, ?> m, int depth) {
    if (m.isEmpty()) {
      sb.append("{}");
      return;
    }
    sb.append("{\n");
    int i = 0;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      indent(sb, depth + 1);
      quote(sb, String.valueOf(e.getKey()));
      sb.append(": ");
      append(sb, e.getValue(), depth + 1);
      sb.append(++i < m.size() ? ",\n" : "\n");
    }
    indent(sb, depth);
    sb.append('}');
  }

  private static void appendArray(StringBuilder sb, Collection<?> c, int depth) {
    if (c.isEmpty()) {
      sb.append("[]");
      return;
    }
    sb.append("[\n");
    int i = 0;
    for (Object o : c) {
      indent(sb, depth + 1);
      append(sb, o, depth + 1);
      sb.append(++i < c.size() ? ",\n" : "\n");
    }
    indent(sb, depth);
    sb.append(']');
  }

  private static void indent(StringBuilder sb, int depth) {
    sb.append("  ".repeat(depth));
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
