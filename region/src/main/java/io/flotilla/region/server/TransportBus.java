package io.flotilla.region.server;

import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.region.driver.MessageBus;
import io.flotilla.region.snapshot.SnapshotStreams;
import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's {@link MessageBus} over the Netty {@link RaftTransport}. Snapshot messages travel on
 * the transport's snapshot lane: the message goes with the first chunk carrying the header the
 * node's {@link SnapshotStreams} make of the snapshot's data (a store's: the region descriptor), and
 * the body (a store's: the SST file, read from disk) follows as a checksummed stream.
 */
public final class TransportBus implements MessageBus {
  private static final Logger LOG = LoggerFactory.getLogger(TransportBus.class);

  private final RaftTransport transport;
  private final Supplier<SnapshotStreams> streams;

  public TransportBus(RaftTransport transport) {
    this(transport, () -> SnapshotStreams.HEAP);
  }

  public TransportBus(RaftTransport transport, Supplier<SnapshotStreams> streams) {
    this.transport = transport;
    this.streams = streams;
  }

  @Override
  public void send(long toNode, long groupId, Message m) {
    transport.send(toNode, groupId, m);
  }

  /** The body is closed when the transfer ends, whatever the outcome (a store's file is released then). */
  @Override
  public CompletableFuture<Void> sendSnapshot(long toNode, long groupId, Message m) {
    Snapshot snap = m.snapshot();
    SnapshotStreams.Outgoing out;
    try {
      out = streams.get().outgoing(groupId, snap.data());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    Message header = m.toBuilder().snapshot(new Snapshot(out.header(), snap.metadata())).build();
    CompletableFuture<Void> sent;
    try {
      sent = transport.sendSnapshot(toNode, groupId, header, out.body());
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    return sent.whenComplete((v, e) -> closeQuietly(groupId, out.body()));
  }

  private static void closeQuietly(long groupId, InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      LOG.warn("[region={}] closing a snapshot stream: {}", groupId, e.toString());
    }
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
