package io.flotilla.engine.transport;

import java.net.InetSocketAddress;
import java.util.function.LongConsumer;

/**
 * Where a node listens. The transport asks again before each connection attempt, so a new address
 * (from PD, say) is picked up on the next dial; a resolver that learns addresses in the background
 * also tells the transport through {@link #subscribe}, so that the next dial is now.
 *
 * <p>Threads: {@link #resolve} is called on transport event loop threads and must not block (no
 * remote look-ups: answer from a local map and refresh it elsewhere).
 */
@FunctionalInterface
public interface NodeResolver {

  /** The node's address, or {@code null} if it is not known (yet); the dial then fails and retries. */
  InetSocketAddress resolve(long nodeId);

  /**
   * Called once by {@link RaftTransport#start} with its {@link RaftTransport#peerMayBeBack}. A
   * resolver whose answers change in the background (a PD cache) calls {@code addressChanged} with a
   * node's id when that node's address becomes known or changes: a link waiting out its reconnect
   * backoff then dials the new address at once instead of seconds later. Any thread, never blocks.
   * The default ignores it (a fixed map has nothing to report).
   */
  default void subscribe(LongConsumer addressChanged) {}
}
