package io.flotilla.region.server;

import io.flotilla.region.driver.MessageBus;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;

/**
 * The faults of a test network, shared by every node's {@link FaultyBus}: links cut between pairs
 * of nodes (both directions) and a share of Raft messages lost. Thread-safe.
 *
 * <p>A cut link also silences node liveness: a node does not count as heard from across a cut, so
 * hibernated groups behind it wake as they would if the node were gone.
 */
final class NetworkFaults {
  /** When each cut began (nanoTime), by {@link #key} of the unordered pair. */
  private final Map<Long, Long> cutSince = new ConcurrentHashMap<>();
  private volatile double lossRate;
  final LongAdder dropped = new LongAdder();

  /** Wraps node {@code self}'s bus; pass to {@code RaftNode.start} as its bus decorator. */
  UnaryOperator<MessageBus> decorator(long self) {
    return inner -> new FaultyBus(self, inner, this);
  }

  void cut(long a, long b) {
    cutSince.putIfAbsent(key(a, b), System.nanoTime());
  }

  /** Each Raft message (not snapshots) is lost with this probability. */
  void lossRate(double rate) {
    if (rate < 0 || rate > 1) {
      throw new IllegalArgumentException("lossRate must be in [0, 1], got " + rate);
    }
    lossRate = rate;
  }

  void heal() {
    cutSince.clear();
    lossRate = 0;
  }

  double lossRate() {
    return lossRate;
  }

  boolean isCut(long a, long b) {
    return cutSince.containsKey(key(a, b));
  }

  /** When the link between {@code a} and {@code b} was cut, or {@code Long.MAX_VALUE} if it is not. */
  long cutSinceNanos(long a, long b) {
    Long since = cutSince.get(key(a, b));
    return since == null ? Long.MAX_VALUE : since;
  }

  private static long key(long a, long b) {
    return Math.min(a, b) * 1_000_003L + Math.max(a, b);
  }

  @Override
  public String toString() {
    return "cuts=" + cutSince.size() + " loss=" + lossRate + " dropped=" + dropped.sum();
  }
}
