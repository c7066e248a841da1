package io.flotilla.region.server;

import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.transport.SnapshotReceiver;
import io.flotilla.engine.transport.SnapshotSink;
import io.flotilla.region.snapshot.SnapshotStreams;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives streamed snapshots: hands the verified chunks to the node's {@link SnapshotStreams}
 * (a store's write them to a file on its snapshot worker; in-memory ones collect them), and once
 * the body is durable hands the SNAPSHOT message, with the data the streams made of it (a store's:
 * the descriptor naming the received file), to the group's mailbox. The transfer is acknowledged to
 * the sender only then.
 *
 * <p>Threads: {@link #begin} and the sinks' methods on a transport event loop; nothing here blocks.
 */
final class SnapshotAssembler implements SnapshotReceiver {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotAssembler.class);

  /** Where an assembled snapshot goes: {@code (fromNodeId, groupId, message)}; false if it was dropped. */
  interface Delivery {
    boolean deliver(long fromNodeId, long groupId, Message m);
  }

  private final Delivery delivery;
  private final Supplier<SnapshotStreams> streams;
  private final AtomicInteger receiving = new AtomicInteger();

  SnapshotAssembler(Delivery delivery) {
    this(delivery, () -> SnapshotStreams.HEAP);
  }

  SnapshotAssembler(Delivery delivery, Supplier<SnapshotStreams> streams) {
    this.delivery = delivery;
    this.streams = streams;
  }

  /** Snapshots whose first chunk arrived and that are neither complete nor aborted yet. */
  int receiving() {
    return receiving.get();
  }

  @Override
  public SnapshotSink begin(long fromNodeId, long groupId, long snapshotId, Message message) {
    SnapshotStreams.Incoming body = message == null || message.snapshot() == null
        ? null : streams.get().incoming(groupId, message.snapshot().data());
    receiving.incrementAndGet();
    AtomicBoolean ended = new AtomicBoolean();
    Runnable end = () -> {
      if (ended.compareAndSet(false, true)) {
        receiving.decrementAndGet();
      }
    };
    return new SnapshotSink() {
      @Override
      public CompletableFuture<Void> onChunk(byte[] chunk) {
        return body == null ? CompletableFuture.completedFuture(null) : body.write(chunk);
      }

      @Override
      public CompletableFuture<Void> onComplete() {
        end.run();
        if (body == null) {
          return CompletableFuture.failedFuture(new IllegalStateException("snapshot without its message"));
        }
        SnapshotStreams s = streams.get();
        return body.complete().thenAccept(data -> {
          Snapshot snap = new Snapshot(data, message.snapshot().metadata());
          if (!delivery.deliver(fromNodeId, groupId, message.toBuilder().snapshot(snap).build())) {
            s.discard(groupId, data); // no replica took it (not created yet, or refused): Raft resends
          }
        });
      }

      @Override
      public void onAbort(Throwable cause) {
        boolean open = !ended.get();
        end.run();
        if (body != null && open) {
          body.abort();
        }
        LOG.warn("[region={}] snapshot {} from node {} aborted after {} bytes: {}", groupId, snapshotId, fromNodeId,
            body == null ? 0 : body.bytes(), cause.toString());
      }
    };
  }
}
