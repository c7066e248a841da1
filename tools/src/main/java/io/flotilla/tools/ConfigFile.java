package io.flotilla.tools;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server's configuration file: {@code key = value} lines (Java properties syntax, {@code #}
 * comments). Every getter names the setting and the allowed values when a value is bad, and
 * {@link #checkNoneUnknown} refuses settings nobody asked for, so a typo never goes unnoticed.
 */
final class ConfigFile {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kib|mib|gib|kb|mb|gb|k|m|g)?");
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

  private final Path path;
  private final Properties props;
  private final Set<String> known = new TreeSet<>();

  private ConfigFile(Path path, Properties props) {
    this.path = path;
    this.props = props;
  }

  static ConfigFile read(Path path) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new ToolException("cannot read config file " + path + ": " + e.getMessage(), e);
    }
    return new ConfigFile(path, p);
  }

  Path path() {
    return path;
  }

  private String raw(String key) {
    known.add(key);
    String v = props.getProperty(key);
    return v == null ? null : v.trim();
  }

  ToolException bad(String key, String allowed, String got) {
    return new ToolException("config " + path + ": setting '" + key + "' " + allowed + ", got '" + got + "'");
  }

  String string(String key, String dflt) {
    String v = raw(key);
    return v == null || v.isEmpty() ? dflt : v;
  }

  String required(String key, String allowed) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      throw new ToolException("config " + path + ": setting '" + key + "' is required (" + allowed + ")");
    }
    return v;
  }

  long integer(String key, long dflt, long min, long max) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v.replace("_", ""));
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw bad(key, "must be an integer in [" + min + ", " + max + "]", v);
  }

  boolean bool(String key, boolean dflt) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw bad(key, "must be true or false", v);
    };
  }

  /** A byte size: a number with an optional unit b, KiB, MiB, GiB (KB/MB/GB and k/m/g are 1024-based too). */
  long size(String key, long dflt, long min) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    Matcher m = SIZE.matcher(v.toLowerCase(Locale.ROOT).replace("_", ""));
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "b" : m.group(2);
      long mult = switch (unit.charAt(0)) {
        case 'k' -> 1L << 10;
        case 'm' -> 1L << 20;
        case 'g' -> 1L << 30;
        default -> 1;
      };
      long bytes = n * mult;
      if (bytes >= min) {
        return bytes;
      }
    }
    throw bad(key, "must be a size of at least " + min + " bytes like 96MiB, 8KiB or 1024", v);
  }

  Duration duration(String key, Duration dflt, Duration min) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    Matcher m = DURATION.matcher(v.toLowerCase(Locale.ROOT));
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
      if (d.compareTo(min) >= 0) {
        return d;
      }
    }
    throw bad(key, "must be a duration of at least " + min.toMillis() + " ms like 500ms, 10s, 30m or 1h", v);
  }

  List<String> list(String key, List<String> dflt) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    List<String> out = new ArrayList<>();
    for (String part : v.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }

  /** Refuses settings that no getter asked for (typos, settings of another server kind). */
  void checkNoneUnknown() {
    for (String key : props.stringPropertyNames()) {
      if (!known.contains(key)) {
        throw new ToolException("config " + path + ": unknown setting '" + key + "'; the settings are "
            + String.join(", ", known));
      }
    }
  }
}
