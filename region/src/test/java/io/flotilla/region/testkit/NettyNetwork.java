package io.flotilla.region.testkit;

import io.flotilla.region.driver.MessageBus;
import io.flotilla.region.server.RaftNode;
import java.util.function.UnaryOperator;

/**
 * Faults on the real Netty transport: each {@link RaftNode}'s outbound bus (its {@code
 * TransportBus}) is wrapped through the bus decorator {@link RaftNode#start} takes, so what a cut
 * or loss drops never reaches the transport. Inbound traffic is untouched; a fault takes effect
 * on the sender's side, which is enough as every link has two senders.
 */
public final class NettyNetwork extends LinkFaults {
  /** The decorator to pass to {@code RaftNode.start} for node {@code self}. */
  public UnaryOperator<MessageBus> decorator(long self) {
    return inner -> faulty(self, inner);
  }
}
