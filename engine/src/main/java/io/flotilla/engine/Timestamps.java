package io.flotilla.engine;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Hybrid timestamps of PD's oracle (TiKV's layout): {@code physical_ms << 18 | logical}, the
 * physical part in Unix milliseconds, the logical part counting within one millisecond. They compare
 * as plain {@code long}s: a physical part up to {@link #MAX_PHYSICAL_MS} (2^45 ms, past the year
 * 3000) keeps the sign bit clear. Stateless; any thread.
 */
public final class Timestamps {
  /** Bits of the logical part. */
  public static final int LOGICAL_BITS = 18;
  /** Logical parts per millisecond: 0 .. {@code LOGICAL_LIMIT - 1}. */
  public static final long LOGICAL_LIMIT = 1L << LOGICAL_BITS;
  /** The largest physical part (ms) that composes into a positive timestamp. */
  public static final long MAX_PHYSICAL_MS = (1L << (63 - LOGICAL_BITS)) - 1;

  private static final long LOGICAL_MASK = LOGICAL_LIMIT - 1;
  private static final DateTimeFormatter ISO_MS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Timestamps() {}

  /**
   * The timestamp of {@code physicalMs} and {@code logical}.
   *
   * @throws IllegalArgumentException if either is out of range
   */
  public static long compose(long physicalMs, long logical) {
    if (physicalMs < 0 || physicalMs > MAX_PHYSICAL_MS) {
      throw new IllegalArgumentException("physicalMs: must be in [0, " + MAX_PHYSICAL_MS + "], got " + physicalMs);
    }
    if (logical < 0 || logical >= LOGICAL_LIMIT) {
      throw new IllegalArgumentException("logical: must be in [0, " + (LOGICAL_LIMIT - 1) + "], got " + logical);
    }
    return physicalMs << LOGICAL_BITS | logical;
  }

  /** The physical part: Unix milliseconds. */
  public static long physicalMs(long ts) {
    return ts >>> LOGICAL_BITS;
  }

  public static long logical(long ts) {
    return ts & LOGICAL_MASK;
  }

  /** The physical part as an instant. */
  public static Instant instant(long ts) {
    return Instant.ofEpochMilli(physicalMs(ts));
  }

  /** The physical part in ISO-8601, always with milliseconds: {@code 2026-12-04T21:40:00.123Z}. */
  public static String physicalIso(long ts) {
    return ISO_MS.format(instant(ts));
  }

  /** {@code physical=2026-12-04T21:40:00.123Z logical=5}. */
  public static String toString(long ts) {
    return "physical=" + physicalIso(ts) + " logical=" + logical(ts);
  }
}
