package io.flotilla.engine.transport;

import io.flotilla.engine.proto.SnapshotAck;
import io.flotilla.engine.proto.SnapshotChunk;
import io.flotilla.engine.proto.SnapshotStatus;
import io.flotilla.engine.raft.Message;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of one snapshot lane: checks each chunk's sequence number and CRC32C, hands the
 * chunks of each transfer to its {@link SnapshotSink} one at a time, and answers each transfer with
 * one {@code SnapshotAck} (OK after the sink completed, or the first error).
 *
 * <p>Flow control: while a sink's future is pending, the lane stops reading ({@code autoRead} off);
 * chunks already decoded wait in a small backlog. A slow disk thus slows the sender through TCP.
 *
 * <p>Threads: the channel's event loop only.
 */
final class SnapshotInbound {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotInbound.class);
  private static final int MAX_REMEMBERED_FAILURES = 1024;

  /** A chunk copied out of its frame. */
  record Chunk(long groupId, long snapshotId, long seq, byte[] data, int crc32c, boolean last,
      boolean aborted, Message message) {

    static Chunk of(SnapshotChunk c) {
      return new Chunk(c.getGroupId(), c.getSnapshotId(), c.getSeq(), c.getData().toByteArray(),
          c.getCrc32C(), c.getLast(), c.getAborted(),
          c.hasMessage() ? RaftMessageCodec.fromProto(c.getMessage()) : null);
    }
  }

  private static final class Transfer {
    final SnapshotSink sink;
    long nextSeq;

    Transfer(SnapshotSink sink) {
      this.sink = sink;
    }
  }

  private final Channel channel;
  private final long fromNodeId;
  private final Supplier<SnapshotReceiver> receiver;
  private final TransportMetrics metrics;
  private final HashMap<SnapshotLane.TransferKey, Transfer> transfers = new HashMap<>();
  /** Transfers that failed here: their chunks still in flight are skipped silently. */
  private final LinkedHashSet<SnapshotLane.TransferKey> failed = new LinkedHashSet<>();
  private final ArrayDeque<Chunk> backlog = new ArrayDeque<>();
  private boolean busy;

  SnapshotInbound(Channel channel, long fromNodeId, Supplier<SnapshotReceiver> receiver,
      TransportMetrics metrics) {
    this.channel = channel;
    this.fromNodeId = fromNodeId;
    this.receiver = receiver;
    this.metrics = metrics;
  }

  void onChunk(Chunk chunk) {
    metrics.snapshotChunksReceived.increment();
    backlog.add(chunk);
    pump();
  }

  /** The lane closed: every transfer still open is aborted. */
  void onClosed() {
    backlog.clear();
    for (Transfer t : new ArrayList<>(transfers.values())) {
      abortSink(t, new ConnectionLostException("node " + fromNodeId, true, "snapshot lane closed"));
    }
    transfers.clear();
  }

  private void pump() {
    Chunk c;
    while (!busy && (c = backlog.poll()) != null) {
      process(c);
    }
    channel.config().setAutoRead(!busy);
  }

  private void process(Chunk c) {
    SnapshotLane.TransferKey key = new SnapshotLane.TransferKey(c.groupId(), c.snapshotId());
    Transfer t = transfers.get(key);
    if (c.aborted()) {
      if (t != null) {
        transfers.remove(key);
        abortSink(t, new SnapshotTransferException(SnapshotTransferException.Reason.SOURCE_FAILED,
            describe(key) + " the sender aborted the transfer"));
      }
      return;
    }
    if (t == null) {
      if (failed.contains(key)) {
        if (c.last()) {
          failed.remove(key);
        }
        return;
      }
      if (c.seq() != 0) {
        fail(key, null, SnapshotStatus.SNAPSHOT_STATUS_OUT_OF_ORDER,
            "chunk " + c.seq() + " of a transfer that has not started");
        return;
      }
      t = begin(key, c);
      if (t == null) {
        return;
      }
    }
    if (c.seq() != t.nextSeq) {
      fail(key, t, SnapshotStatus.SNAPSHOT_STATUS_OUT_OF_ORDER,
          "expected chunk " + t.nextSeq + ", got " + c.seq());
      return;
    }
    CRC32C crc = new CRC32C();
    crc.update(c.data());
    if ((int) crc.getValue() != c.crc32c()) {
      metrics.snapshotChecksumFailures.increment();
      String reason = String.format("chunk %d (%d bytes) failed its CRC32C check: expected %08x,"
          + " computed %08x", c.seq(), c.data().length, c.crc32c(), (int) crc.getValue());
      LOG.warn("{} from node {}: {}; transfer aborted, the sender may retry. Repeated failures"
          + " point at faulty memory, NIC or network path.", describe(key), fromNodeId, reason);
      fail(key, t, SnapshotStatus.SNAPSHOT_STATUS_CHECKSUM_MISMATCH, reason);
      return;
    }
    t.nextSeq++;
    Transfer transfer = t;
    CompletableFuture<Void> stored = call(() -> transfer.sink.onChunk(c.data()));
    if (c.last()) {
      stored = stored.thenCompose(v -> call(transfer.sink::onComplete));
    }
    if (stored.isDone()) {
      finish(key, transfer, c, stored);
    } else {
      busy = true;
      CompletableFuture<Void> pending = stored;
      stored.whenComplete((v, e) -> channel.eventLoop().execute(() -> {
        busy = false;
        finish(key, transfer, c, pending);
        pump();
      }));
    }
  }

  private Transfer begin(SnapshotLane.TransferKey key, Chunk c) {
    SnapshotReceiver r = receiver.get();
    if (r == null) {
      fail(key, null, SnapshotStatus.SNAPSHOT_STATUS_REJECTED, "this node accepts no snapshots");
      return null;
    }
    SnapshotSink sink;
    try {
      sink = r.begin(fromNodeId, c.groupId(), c.snapshotId(), c.message());
    } catch (RuntimeException e) {
      LOG.error("{} from node {}: the snapshot receiver failed to begin", describe(key),
          fromNodeId, e);
      fail(key, null, SnapshotStatus.SNAPSHOT_STATUS_RECEIVER_FAILED, e.toString());
      return null;
    }
    Transfer t = new Transfer(sink);
    transfers.put(key, t);
    return t;
  }

  private void finish(SnapshotLane.TransferKey key, Transfer t, Chunk c,
      CompletableFuture<Void> stored) {
    if (transfers.get(key) != t) {
      return; // aborted meanwhile (lane closed)
    }
    Throwable error = stored.handle((v, e) -> e).join();
    if (error != null) {
      fail(key, t, SnapshotStatus.SNAPSHOT_STATUS_RECEIVER_FAILED,
          "storing the snapshot failed: " + unwrap(error));
    } else if (c.last()) {
      transfers.remove(key);
      ack(key, SnapshotStatus.SNAPSHOT_STATUS_OK, "");
    }
  }

  private void fail(SnapshotLane.TransferKey key, Transfer t, SnapshotStatus status, String why) {
    if (t != null) {
      transfers.remove(key);
      abortSink(t, new SnapshotTransferException(reason(status), describe(key) + " " + why));
    }
    failed.add(key);
    if (failed.size() > MAX_REMEMBERED_FAILURES) {
      failed.remove(failed.iterator().next());
    }
    ack(key, status, why);
  }

  private void ack(SnapshotLane.TransferKey key, SnapshotStatus status, String message) {
    SnapshotAck ack = SnapshotAck.newBuilder()
        .setGroupId(key.groupId())
        .setSnapshotId(key.snapshotId())
        .setStatus(status)
        .setErrorMessage(message)
        .build();
    channel.writeAndFlush(Frames.encode(channel.alloc(), Frames.frame().setSnapshotAck(ack).build()),
        channel.voidPromise());
  }

  private void abortSink(Transfer t, Throwable cause) {
    try {
      t.sink.onAbort(cause);
    } catch (RuntimeException e) {
      LOG.error("Snapshot sink onAbort threw", e);
    }
  }

  private static SnapshotTransferException.Reason reason(SnapshotStatus status) {
    return switch (status) {
      case SNAPSHOT_STATUS_CHECKSUM_MISMATCH -> SnapshotTransferException.Reason.CHECKSUM_MISMATCH;
      case SNAPSHOT_STATUS_OUT_OF_ORDER -> SnapshotTransferException.Reason.OUT_OF_ORDER;
      case SNAPSHOT_STATUS_REJECTED -> SnapshotTransferException.Reason.REJECTED;
      case SNAPSHOT_STATUS_RECEIVER_FAILED -> SnapshotTransferException.Reason.RECEIVER_FAILED;
      default -> SnapshotTransferException.Reason.UNKNOWN;
    };
  }

  private static CompletableFuture<Void> call(Supplier<CompletableFuture<Void>> step) {
    try {
      CompletableFuture<Void> f = step.get();
      return f != null ? f : CompletableFuture.failedFuture(
          new IllegalStateException("snapshot sink returned a null future"));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof java.util.concurrent.CompletionException && e.getCause() != null
        ? e.getCause() : e;
  }

  private static String describe(SnapshotLane.TransferKey key) {
    return "[group=" + key.groupId() + " snapshot=" + key.snapshotId() + "]";
  }
}
