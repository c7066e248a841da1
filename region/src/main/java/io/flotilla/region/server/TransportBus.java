package io.flotilla.region.server;

import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.region.driver.MessageBus;
import java.io.ByteArrayInputStream;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The driver's {@link MessageBus} over the Netty {@link RaftTransport}. Snapshot messages travel on
 * the transport's snapshot lane: the message goes with the first chunk without its data, and the
 * data follows as a checksummed stream.
 */
public final class TransportBus implements MessageBus {
  private final RaftTransport transport;

  public TransportBus(RaftTransport transport) {
    this.transport = transport;
  }

  @Override
  public void send(long toNode, long groupId, Message m) {
    transport.send(toNode, groupId, m);
  }

  @Override
  public CompletableFuture<Void> sendSnapshot(long toNode, long groupId, Message m) {
    Snapshot snap = m.snapshot();
    Message header = m.toBuilder().snapshot(new Snapshot(new byte[0], snap.metadata())).build();
    return transport.sendSnapshot(toNode, groupId, header, new ByteArrayInputStream(snap.data()));
  }

  @Override
  public void flush() {
    transport.flush();
  }

  @Override
  public long lastHeardNanos(long node) {
    OptionalLong heard = transport.lastHeardNanos(node);
    return heard.isPresent() ? heard.getAsLong() : Long.MIN_VALUE;
  }
}
