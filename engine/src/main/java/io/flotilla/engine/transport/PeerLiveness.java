package io.flotilla.engine.transport;

import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * When each node was last heard from: any frame from it counts (node heartbeats, Raft batches,
 * responses), on any connection. Times come from the injected nanosecond clock.
 *
 * <p>Threads: {@link #heard} from event loops, queries from any thread.
 */
final class PeerLiveness {

  private static final class LastHeard {
    volatile long nanos;
  }

  private final LongSupplier nanoClock;
  private final ConcurrentHashMap<Long, LastHeard> lastHeard = new ConcurrentHashMap<>();

  PeerLiveness(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  void heard(long nodeId) {
    if (nodeId == 0) {
      return;
    }
    LastHeard h = lastHeard.get(nodeId);
    if (h == null) {
      h = lastHeard.computeIfAbsent(nodeId, id -> new LastHeard());
    }
    h.nanos = nanoClock.getAsLong();
  }

  OptionalLong lastHeardNanos(long nodeId) {
    LastHeard h = lastHeard.get(nodeId);
    return h == null ? OptionalLong.empty() : OptionalLong.of(h.nanos);
  }
}
