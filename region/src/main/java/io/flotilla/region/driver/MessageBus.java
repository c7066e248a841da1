package io.flotilla.region.driver;

import io.flotilla.engine.raft.Message;
import java.util.concurrent.CompletableFuture;

/**
 * How the driver reaches other nodes: the Netty transport in production, an in-process bus (with
 * fault injection) in tests. Implementations are thread-safe; the driver's pollers call them
 * concurrently.
 */
public interface MessageBus {
  /** Queues a Raft message of one group for a node; may drop it when the peer is slow. */
  void send(long toNode, long groupId, Message m);

  /**
   * Streams a SNAPSHOT message (its data can be large) on the snapshot lane; completes when the
   * receiver has it all, or exceptionally.
   */
  CompletableFuture<Void> sendSnapshot(long toNode, long groupId, Message m);

  /** Sends everything queued: one frame per destination node. Called once per driver round. */
  void flush();

  /**
   * Nanos (from {@link System#nanoTime()}) when anything was last heard from {@code node}, or
   * {@code Long.MIN_VALUE} if never.
   */
  long lastHeardNanos(long node);
}
