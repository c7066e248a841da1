package io.flotilla.pd.schedule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The run-time settings of one scheduler, by name, as strings on the wire ({@code SchedulerInfo.settings})
 * and typed inside. {@link #apply} checks every change before it makes any: a bad one changes
 * nothing and names the setting and what it allows.
 *
 * <p>Threads: any thread; values live in the owner's volatile fields (read by suppliers, written by
 * consumers).
 */
public final class Settings {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)");

  private record Setting(String allowed, Supplier<String> get, Parser parse) {}

  /** Parses a raw value into a change to make, or throws naming what is allowed. */
  @FunctionalInterface
  private interface Parser {
    Runnable parse(String raw);
  }

  private final String owner;
  private final Map<String, Setting> settings = new LinkedHashMap<>();

  public Settings(String owner) {
    this.owner = owner;
  }

  /** A duration written {@code <n>ms|s|m|h}, in [{@code minMs}, {@code maxMs}]. */
  public Settings duration(String name, long minMs, long maxMs, Supplier<Long> get, Consumer<Long> set) {
    String allowed = "a duration like 500ms, 10s, 30m or 1h in [" + formatDuration(minMs) + ", "
        + formatDuration(maxMs) + "]";
    settings.put(name, new Setting(allowed, () -> formatDuration(get.get()), raw -> {
      Matcher m = DURATION.matcher(raw.trim().toLowerCase(Locale.ROOT));
      if (!m.matches()) {
        throw bad(name, allowed, raw);
      }
      long n = Long.parseLong(m.group(1));
      long ms = switch (m.group(2)) {
        case "h" -> n * 3_600_000L;
        case "m" -> n * 60_000L;
        case "s" -> n * 1_000L;
        default -> n;
      };
      if (ms < minMs || ms > maxMs) {
        throw bad(name, allowed, raw);
      }
      return () -> set.accept(ms);
    }));
    return this;
  }

  /** An integer in [{@code min}, {@code max}]. */
  public Settings integer(String name, int min, int max, Supplier<Integer> get, Consumer<Integer> set) {
    String allowed = "an integer in [" + min + ", " + max + "]";
    settings.put(name, new Setting(allowed, () -> Integer.toString(get.get()), raw -> {
      int v;
      try {
        v = Integer.parseInt(raw.trim());
      } catch (NumberFormatException e) {
        throw bad(name, allowed, raw);
      }
      if (v < min || v > max) {
        throw bad(name, allowed, raw);
      }
      return () -> set.accept(v);
    }));
    return this;
  }

  /** A decimal number in [{@code min}, {@code max}]. */
  public Settings decimal(String name, double min, double max, Supplier<Double> get, Consumer<Double> set) {
    String allowed = "a number in [" + min + ", " + max + "]";
    settings.put(name, new Setting(allowed, () -> Double.toString(get.get()), raw -> {
      double v;
      try {
        v = Double.parseDouble(raw.trim());
      } catch (NumberFormatException e) {
        throw bad(name, allowed, raw);
      }
      if (!(v >= min && v <= max)) {
        throw bad(name, allowed, raw);
      }
      return () -> set.accept(v);
    }));
    return this;
  }

  /** One of {@code choices}. */
  public Settings choice(String name, List<String> choices, Supplier<String> get, Consumer<String> set) {
    String allowed = "one of " + String.join(", ", choices);
    settings.put(name, new Setting(allowed, get, raw -> {
      String v = raw.trim().toLowerCase(Locale.ROOT);
      if (!choices.contains(v)) {
        throw bad(name, allowed, raw);
      }
      return () -> set.accept(v);
    }));
    return this;
  }

  /** Every setting and its current value, sorted by name. */
  public Map<String, String> values() {
    Map<String, String> out = new TreeMap<>();
    settings.forEach((name, s) -> out.put(name, s.get().get()));
    return out;
  }

  /**
   * Makes every change in {@code changes}, or none.
   *
   * @throws IllegalArgumentException naming the unknown setting, or the bad value and what is allowed
   */
  public void apply(Map<String, String> changes) {
    List<Runnable> todo = new java.util.ArrayList<>();
    for (Map.Entry<String, String> c : new TreeMap<>(changes).entrySet()) {
      Setting s = settings.get(c.getKey());
      if (s == null) {
        throw new IllegalArgumentException(owner + ": unknown setting '" + c.getKey() + "'; its settings are "
            + (settings.isEmpty() ? "none" : String.join(", ", settings.keySet())));
      }
      todo.add(s.parse().parse(c.getValue()));
    }
    todo.forEach(Runnable::run);
  }

  private IllegalArgumentException bad(String name, String allowed, String raw) {
    return new IllegalArgumentException(owner + "." + name + ": must be " + allowed + ", got '" + raw + "'");
  }

  /** {@code ms} in the largest unit that divides it: 30m, 10s, 1500ms. */
  public static String formatDuration(long ms) {
    if (ms != 0 && ms % 3_600_000L == 0) {
      return ms / 3_600_000L + "h";
    }
    if (ms != 0 && ms % 60_000L == 0) {
      return ms / 60_000L + "m";
    }
    if (ms != 0 && ms % 1_000L == 0) {
      return ms / 1_000L + "s";
    }
    return ms + "ms";
  }
}
