package io.flotilla.region.testkit;

import io.flotilla.engine.raft.Message;
import io.flotilla.region.driver.MessageBus;
import io.flotilla.region.driver.RaftDriver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connects drivers in one JVM: each node's messages are queued per destination and handed to the
 * destination driver's mailbox on flush, as one frame per node would be. A node counts as heard
 * from while its driver is registered; a stopped node is not heard from after it stopped.
 */
public final class InProcessNetwork extends LinkFaults {
  private final Map<Long, RaftDriver> drivers = new ConcurrentHashMap<>();
  private final Map<Long, Long> downSince = new ConcurrentHashMap<>();

  /** The bus for node {@code self}'s driver; {@link #register} the driver once it is built. */
  public MessageBus endpoint(long self) {
    return faulty(self, new Endpoint(self));
  }

  /** Makes the driver reachable (again). */
  public void register(RaftDriver d) {
    drivers.put(d.nodeId(), d);
    downSince.remove(d.nodeId());
  }

  /** Makes the node unreachable, as a stopped process is. */
  public void unregister(long node) {
    drivers.remove(node);
    downSince.put(node, System.nanoTime());
  }

  private record Queued(long groupId, Message m) {}

  private final class Endpoint implements MessageBus {
    private final long self;
    private final Map<Long, List<Queued>> queued = new ConcurrentHashMap<>();

    Endpoint(long self) {
      this.self = self;
    }

    @Override
    public void send(long toNode, long groupId, Message m) {
      List<Queued> q = queued.computeIfAbsent(toNode, k -> new ArrayList<>());
      synchronized (q) {
        q.add(new Queued(groupId, m));
      }
    }

    @Override
    public CompletableFuture<Void> sendSnapshot(long toNode, long groupId, Message m) {
      RaftDriver to = drivers.get(toNode);
      if (to == null) {
        return CompletableFuture.failedFuture(new IllegalStateException("node " + toNode + " is down"));
      }
      to.deliver(groupId, m);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void flush() {
      // NB: pollers of one node may flush concurrently, so each takes what is queued under the lock.
      for (Map.Entry<Long, List<Queued>> e : queued.entrySet()) {
        List<Queued> batch;
        synchronized (e.getValue()) {
          batch = new ArrayList<>(e.getValue());
          e.getValue().clear();
        }
        RaftDriver to = drivers.get(e.getKey());
        if (to != null) {
          for (Queued q : batch) {
            to.deliver(q.groupId(), q.m());
          }
        }
      }
    }

    @Override
    public long lastHeardNanos(long node) {
      if (drivers.containsKey(node)) {
        return System.nanoTime();
      }
      Long since = downSince.get(node);
      return since != null ? since : Long.MIN_VALUE;
    }
  }
}
