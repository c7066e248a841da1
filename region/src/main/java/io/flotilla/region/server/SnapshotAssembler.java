package io.flotilla.region.server;

import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.transport.SnapshotReceiver;
import io.flotilla.engine.transport.SnapshotSink;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives streamed snapshots: collects the verified chunks, then hands the SNAPSHOT message with
 * its data to the group's mailbox. The data is held in memory; region snapshots made of SST files
 * will stream to disk instead.
 */
final class SnapshotAssembler implements SnapshotReceiver {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotAssembler.class);

  /** Where an assembled snapshot goes: {@code (fromNodeId, groupId, message)}. */
  interface Delivery {
    void deliver(long fromNodeId, long groupId, Message m);
  }

  private final Delivery delivery;
  private final AtomicInteger receiving = new AtomicInteger();

  SnapshotAssembler(Delivery delivery) {
    this.delivery = delivery;
  }

  /** Snapshots whose first chunk arrived and that are neither complete nor aborted yet. */
  int receiving() {
    return receiving.get();
  }

  @Override
  public SnapshotSink begin(long fromNodeId, long groupId, long snapshotId, Message message) {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
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
        data.write(chunk, 0, chunk.length);
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletableFuture<Void> onComplete() {
        end.run();
        if (message == null || message.snapshot() == null) {
          return CompletableFuture.failedFuture(new IllegalStateException("snapshot without its message"));
        }
        Snapshot snap = new Snapshot(data.toByteArray(), message.snapshot().metadata());
        delivery.deliver(fromNodeId, groupId, message.toBuilder().snapshot(snap).build());
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public void onAbort(Throwable cause) {
        end.run();
        LOG.warn("snapshot {} of group {} from node {} aborted after {} bytes: {}", snapshotId, groupId, fromNodeId,
            data.size(), cause.toString());
      }
    };
  }
}
