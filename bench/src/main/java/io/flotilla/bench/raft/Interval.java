package io.flotilla.bench.raft;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * What one JVM saw between two progress ticks.
 *
 * @param index the tick's place in the schedule (the same in every JVM of a run)
 * @param warmup whether the tick ends a warmup interval
 * @param elapsedNanos time since the load (or the idle wait) started, at the tick
 * @param lengthNanos time since the previous tick
 * @param latencies commit latencies completed in the interval, microseconds
 * @param errors proposal errors in the interval
 * @param cpuNanos the JVM's CPU time in the interval
 * @param hibernated hosted replicas hibernating at the tick
 * @param replicas hosted replicas in all
 */
record Interval(
    int index,
    boolean warmup,
    long elapsedNanos,
    long lengthNanos,
    Histogram latencies,
    long errors,
    long cpuNanos,
    long hibernated,
    long replicas) {

  /** Receives intervals; may be called from several threads. */
  @FunctionalInterface
  interface Sink {
    void accept(Interval interval);
  }

  /** Space-separated, the histogram compressed and in base64, for the node process protocol. */
  String encode() {
    return index + " " + warmup + " " + elapsedNanos + " " + lengthNanos + " " + errors + " " + cpuNanos + " "
        + hibernated + " " + replicas + " " + encode(latencies);
  }

  /** A histogram compressed and in base64: one word of the node process protocol. */
  static String encode(Histogram h) {
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    return Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), n));
  }

  static Histogram decodeHistogram(String word) {
    try {
      return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(word)), 0);
    } catch (DataFormatException e) {
      throw new IllegalArgumentException("bad histogram: " + e.getMessage(), e);
    }
  }

  static Interval decode(List<String> f) {
    if (f.size() != 9) {
      throw new IllegalArgumentException("expected 9 interval fields, got " + f.size());
    }
    Histogram h = decodeHistogram(f.get(8));
    return new Interval(Integer.parseInt(f.get(0)), Boolean.parseBoolean(f.get(1)), Long.parseLong(f.get(2)),
        Long.parseLong(f.get(3)), h, Long.parseLong(f.get(4)), Long.parseLong(f.get(5)), Long.parseLong(f.get(6)),
        Long.parseLong(f.get(7)));
  }
}
