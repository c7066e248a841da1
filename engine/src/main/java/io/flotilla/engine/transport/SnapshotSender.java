package io.flotilla.engine.transport;

import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.engine.proto.SnapshotChunk;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams snapshots to other nodes on their snapshot lanes: reads the source in chunks of {@link
 * TransportConfig#snapshotChunkBytes}, stamps each with its CRC32C, writes it when the lane is
 * writable, then waits for the receiver's verdict.
 *
 * <p>Reading the source may block (files), so transfers run on their own small pool ({@code
 * flotilla-snapshot-send-*}, {@link TransportConfig#snapshotSendThreads} threads), never on an event
 * loop; transfers beyond the pool's size wait their turn.
 *
 * <p>Threads: {@link #send} and {@link #close} from any thread.
 */
final class SnapshotSender implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotSender.class);
  private static final byte[] EMPTY = new byte[0];

  private final TransportConfig config;
  private final TransportMetrics metrics;
  private final ExecutorService executor;

  /** Tests only: rewrites a chunk's bytes after its CRC32C was computed (corruption in transit). */
  volatile java.util.function.BiFunction<Long, byte[], byte[]> tamperForTest;

  SnapshotSender(String label, TransportConfig config, TransportMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.executor = Executors.newFixedThreadPool(config.snapshotSendThreads(),
        new DefaultThreadFactory("flotilla-snapshot-send-" + label, true));
  }

  /**
   * Streams {@code data} to {@code link}'s node. The future completes when the receiver has stored
   * the snapshot, or fails with {@link SnapshotTransferException} or {@link
   * ConnectionLostException}. {@code data} is closed when the transfer ends.
   */
  CompletableFuture<Void> send(PeerLink link, long groupId, long snapshotId,
      io.flotilla.engine.proto.Message message, InputStream data) {
    CompletableFuture<Void> result = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try (InputStream in = data) {
          transfer(link, new SnapshotLane.TransferKey(groupId, snapshotId), message, in);
          result.complete(null);
        } catch (InterruptedException e) {
          result.completeExceptionally(
              new ConnectionLostException("node " + link.nodeId(), true, "transport closed"));
        } catch (Throwable t) {
          result.completeExceptionally(t);
        }
      });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(
          new ConnectionLostException("node " + link.nodeId(), false, "transport closed"));
    }
    return result;
  }

  private void transfer(PeerLink link, SnapshotLane.TransferKey key,
      io.flotilla.engine.proto.Message message, InputStream in) throws InterruptedException {
    long waitMs = config.connectTimeoutMs() + config.handshakeTimeoutMs();
    SnapshotLane lane;
    try {
      lane = unwrap(() -> link.snapshotLane().get(waitMs, TimeUnit.MILLISECONDS));
    } catch (TimeoutException e) {
      throw new ConnectionLostException("node " + link.nodeId(), false,
          "snapshot lane not ready within " + waitMs + " ms");
    }
    CompletableFuture<Void> verdict = lane.register(key);
    try {
      if (!streamChunks(lane, key, message, in, verdict)) {
        abort(lane, key);
        throw new SnapshotTransferException(SnapshotTransferException.Reason.TIMEOUT,
            describe(link, key) + ": the snapshot lane stayed unwritable for "
                + config.snapshotAckTimeoutMs() + " ms");
      }
      try {
        unwrap(() -> verdict.get(config.snapshotAckTimeoutMs(), TimeUnit.MILLISECONDS));
      } catch (TimeoutException e) {
        abort(lane, key);
        throw new SnapshotTransferException(SnapshotTransferException.Reason.TIMEOUT,
            describe(link, key) + ": no verdict within " + config.snapshotAckTimeoutMs() + " ms");
      }
    } finally {
      lane.unregister(key);
    }
  }

  /**
   * Writes the chunks; returns false if the lane stayed unwritable too long. Returns early (true)
   * when the verdict came before the last chunk (a failure) or the lane closed.
   */
  private boolean streamChunks(SnapshotLane lane, SnapshotLane.TransferKey key,
      io.flotilla.engine.proto.Message message, InputStream in, CompletableFuture<Void> verdict)
      throws InterruptedException {
    int chunkBytes = config.snapshotChunkBytes();
    byte[] current = read(lane, key, in, chunkBytes);
    for (long seq = 0; ; seq++) {
      // readNBytes only returns short at the end of the stream.
      byte[] next = current.length < chunkBytes ? EMPTY : read(lane, key, in, chunkBytes);
      boolean last = next.length == 0;
      if (verdict.isDone()) {
        return true; // the receiver failed the transfer early; the verdict says why
      }
      if (!lane.awaitWritable(config.snapshotAckTimeoutMs())) {
        return lane.isClosed(); // closed: the verdict failed with ConnectionLostException
      }
      CRC32C crc = new CRC32C();
      crc.update(current);
      SnapshotChunk.Builder chunk =
          SnapshotChunk.newBuilder()
              .setGroupId(key.groupId())
              .setSnapshotId(key.snapshotId())
              .setSeq(seq)
              .setData(UnsafeByteOperations.unsafeWrap(tampered(seq, current)))
              .setCrc32C((int) crc.getValue())
              .setLast(last);
      if (seq == 0 && message != null) {
        chunk.setMessage(message);
      }
      lane.write(Frames.frame().setSnapshotChunk(chunk).build());
      metrics.snapshotChunksSent.increment();
      metrics.snapshotBytesSent.add(current.length);
      if (last) {
        return true;
      }
      current = next;
    }
  }

  private byte[] tampered(long seq, byte[] data) {
    var tamper = tamperForTest;
    return tamper == null ? data : tamper.apply(seq, data);
  }

  private byte[] read(SnapshotLane lane, SnapshotLane.TransferKey key, InputStream in, int n) {
    try {
      return in.readNBytes(n);
    } catch (IOException e) {
      abort(lane, key);
      throw new SnapshotTransferException(SnapshotTransferException.Reason.SOURCE_FAILED,
          "[group=" + key.groupId() + " snapshot=" + key.snapshotId()
              + "] reading the snapshot failed: " + e, e);
    }
  }

  /** Tells the receiver to discard the transfer; best effort. */
  private static void abort(SnapshotLane lane, SnapshotLane.TransferKey key) {
    if (!lane.isClosed()) {
      lane.write(Frames.frame().setSnapshotChunk(SnapshotChunk.newBuilder()
          .setGroupId(key.groupId()).setSnapshotId(key.snapshotId()).setAborted(true)).build());
    }
  }

  private static String describe(PeerLink link, SnapshotLane.TransferKey key) {
    return "[group=" + key.groupId() + " snapshot=" + key.snapshotId() + "] to node " + link.nodeId();
  }

  private interface Blocking<T> {
    T get() throws InterruptedException, ExecutionException, TimeoutException;
  }

  /** Runs a blocking get, rethrowing a failed future's own cause (a typed transport exception). */
  private static <T> T unwrap(Blocking<T> get) throws InterruptedException, TimeoutException {
    try {
      return get.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new TransportException("snapshot transfer failed", e.getCause());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("Snapshot sender threads did not stop within 5 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
