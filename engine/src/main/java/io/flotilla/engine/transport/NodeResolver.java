package io.flotilla.engine.transport;

import java.net.InetSocketAddress;

/**
 * Where a node listens. The transport asks again before each connection attempt, so a new address
 * (from PD, say) is picked up on the next reconnect.
 *
 * <p>Threads: called on transport event loop threads; must not block (no remote look-ups: answer
 * from a local map and refresh it elsewhere).
 */
@FunctionalInterface
public interface NodeResolver {

  /** The node's address, or {@code null} if it is not known (yet); the dial then fails and retries. */
  InetSocketAddress resolve(long nodeId);
}
