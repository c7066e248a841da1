package io.flotilla.region.driver;

import io.flotilla.engine.raft.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connects drivers in one JVM, with faults: nodes can be stopped, links cut, and a share of
 * messages dropped. A node counts as heard from while it runs and the link to it is not cut.
 */
final class InProcessBus {
  private final Map<Long, RaftDriver> drivers = new ConcurrentHashMap<>();
  private final Set<Long> cut = ConcurrentHashMap.newKeySet();
  private final Map<Long, Long> downSince = new ConcurrentHashMap<>();
  private volatile double dropRate;
  private final SplittableRandom seeds;

  InProcessBus(long seed) {
    this.seeds = new SplittableRandom(seed);
  }

  void register(RaftDriver d) {
    drivers.put(d.nodeId(), d);
    downSince.remove(d.nodeId());
  }

  void unregister(long node) {
    drivers.remove(node);
    downSince.put(node, System.nanoTime());
  }

  void cut(long a, long b) {
    cut.add(key(a, b));
    cut.add(key(b, a));
  }

  void dropRate(double rate) {
    dropRate = rate;
  }

  void heal() {
    cut.clear();
    dropRate = 0;
  }

  private static long key(long from, long to) {
    return from * 1_000_003L + to;
  }

  /** The bus endpoint of one node. */
  MessageBus endpoint(long self) {
    SplittableRandom rnd = seeds.split();
    return new MessageBus() {
      private final Map<Long, List<Object[]>> queued = new ConcurrentHashMap<>();

      @Override
      public void send(long toNode, long groupId, Message m) {
        List<Object[]> q = queued.computeIfAbsent(toNode, k -> new ArrayList<>());
        synchronized (q) {
          q.add(new Object[] {groupId, m});
        }
      }

      @Override
      public CompletableFuture<Void> sendSnapshot(long toNode, long groupId, Message m) {
        RaftDriver to = drivers.get(toNode);
        if (to == null || cut.contains(key(self, toNode))) {
          return CompletableFuture.failedFuture(new IllegalStateException("node " + toNode + " unreachable"));
        }
        to.deliver(groupId, m);
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public void flush() {
        // NB: one poller owns a round; pollers of one node may flush concurrently, so take a copy.
        for (Map.Entry<Long, List<Object[]>> e : queued.entrySet()) {
          List<Object[]> batch;
          synchronized (e.getValue()) {
            batch = new ArrayList<>(e.getValue());
            e.getValue().clear();
          }
          RaftDriver to = drivers.get(e.getKey());
          if (to == null || cut.contains(key(self, e.getKey()))) {
            continue;
          }
          for (Object[] gm : batch) {
            if (dropRate > 0 && rnd.nextDouble() < dropRate) {
              continue;
            }
            to.deliver((Long) gm[0], (Message) gm[1]);
          }
        }
      }

      @Override
      public long lastHeardNanos(long node) {
        if (drivers.containsKey(node) && !cut.contains(key(node, self))) {
          return System.nanoTime();
        }
        Long since = downSince.get(node);
        return since != null ? since : Long.MIN_VALUE;
      }
    };
  }
}
