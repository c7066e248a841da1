package io.flotilla.region.testkit;

import io.flotilla.engine.raft.Message;
import io.flotilla.region.driver.MessageBus;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * The fault rules both networks share: links cut between pairs of nodes (since when) and a loss
 * rate, applied to a node's outbound {@link MessageBus} by {@link #faulty}. Subclasses decide what
 * carries the messages that get through.
 */
abstract class LinkFaults implements FaultNetwork {
  /** When each cut began (nanoTime), by {@link #key} of the unordered pair. */
  private final Map<Long, Long> cutSince = new ConcurrentHashMap<>();
  private final Set<Long> nodes = ConcurrentHashMap.newKeySet();
  private final LongAdder dropped = new LongAdder();
  private volatile double dropRate;

  /** Node {@code self}'s outbound bus {@code inner}, with this network's faults applied. */
  protected final MessageBus faulty(long self, MessageBus inner) {
    nodes.add(self);
    return new FaultyBus(self, inner);
  }

  @Override
  public final void cut(long a, long b) {
    if (a == b) {
      throw new IllegalArgumentException("cannot cut node " + a + " from itself");
    }
    cutSince.putIfAbsent(key(a, b), System.nanoTime());
  }

  @Override
  public final void isolate(long node) {
    for (long other : nodes) {
      if (other != node) {
        cut(node, other);
      }
    }
  }

  @Override
  public final void dropRate(double rate) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("dropRate must be in [0, 1], got " + rate);
    }
    dropRate = rate;
  }

  @Override
  public final void heal() {
    cutSince.clear();
    dropRate = 0;
  }

  @Override
  public final long dropped() {
    return dropped.sum();
  }

  private boolean isCut(long a, long b) {
    return cutSince.containsKey(key(a, b));
  }

  private static long key(long a, long b) {
    return Math.min(a, b) * 1_000_003L + Math.max(a, b);
  }

  @Override
  public String toString() {
    return "cuts=" + cutSince.size() + " dropRate=" + dropRate + " dropped=" + dropped.sum();
  }

  /** One node's outbound bus: lost messages never reach {@code inner}. */
  private final class FaultyBus implements MessageBus {
    private final long self;
    private final MessageBus inner;

    FaultyBus(long self, MessageBus inner) {
      this.self = self;
      this.inner = inner;
    }

    @Override
    public void send(long toNode, long groupId, Message m) {
      double loss = dropRate;
      if (isCut(self, toNode) || (loss > 0 && ThreadLocalRandom.current().nextDouble() < loss)) {
        dropped.increment();
        return;
      }
      inner.send(toNode, groupId, m);
    }

    @Override
    public CompletableFuture<Void> sendSnapshot(long toNode, long groupId, Message m) {
      if (isCut(self, toNode)) {
        return CompletableFuture.failedFuture(new IllegalStateException("link " + self + "-" + toNode + " is cut"));
      }
      return inner.sendSnapshot(toNode, groupId, m);
    }

    @Override
    public void flush() {
      inner.flush();
    }

    @Override
    public long lastHeardNanos(long node) {
      Long since = cutSince.get(key(self, node));
      long heard = inner.lastHeardNanos(node);
      return since == null ? heard : Math.min(heard, since);
    }
  }
}
