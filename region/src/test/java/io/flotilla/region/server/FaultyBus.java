package io.flotilla.region.server;

import io.flotilla.engine.raft.Message;
import io.flotilla.region.driver.MessageBus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@link MessageBus} decorator that applies {@link NetworkFaults} to one node's outbound
 * traffic: messages over a cut link or picked by the loss rate never reach the inner bus, snapshots
 * over a cut link fail, and a peer across a cut link is not heard from after the cut began.
 *
 * <p>NB: which messages are lost depends on thread timing, so a seed replays the fault schedule of
 * a test, not the exact losses.
 */
final class FaultyBus implements MessageBus {
  private final long self;
  private final MessageBus inner;
  private final NetworkFaults faults;

  FaultyBus(long self, MessageBus inner, NetworkFaults faults) {
    this.self = self;
    this.inner = inner;
    this.faults = faults;
  }

  @Override
  public void send(long toNode, long groupId, Message m) {
    double loss = faults.lossRate();
    if (faults.isCut(self, toNode) || (loss > 0 && ThreadLocalRandom.current().nextDouble() < loss)) {
      faults.dropped.increment();
      return;
    }
    inner.send(toNode, groupId, m);
  }

  @Override
  public CompletableFuture<Void> sendSnapshot(long toNode, long groupId, Message m) {
    if (faults.isCut(self, toNode)) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("link " + self + "-" + toNode + " is cut"));
    }
    return inner.sendSnapshot(toNode, groupId, m);
  }

  @Override
  public void flush() {
    inner.flush();
  }

  @Override
  public long lastHeardNanos(long node) {
    return Math.min(inner.lastHeardNanos(node), faults.cutSinceNanos(self, node));
  }
}
