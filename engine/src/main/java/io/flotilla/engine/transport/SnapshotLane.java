package io.flotilla.engine.transport;

import io.flotilla.engine.proto.Frame;
import io.flotilla.engine.proto.SnapshotAck;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * This node's snapshot lane to one node: a connection of its own (handshake lane SNAPSHOT) that
 * carries only snapshot chunks out and verdicts back, so the main lane's heartbeats and appends never
 * queue behind megabytes of snapshot. Several transfers may share the lane; the receiver keys them
 * by (group, snapshot id).
 *
 * <p>Flow control: a sender thread writes a chunk only while the channel is writable (below its
 * high watermark, a couple of chunks; see {@link Dialer#snapshotWaterMark}) and otherwise waits in
 * {@link #awaitWritable}.
 *
 * <p>Threads: the {@link ClientConnection.Listener} methods run on the link's event loop; {@link
 * #register}, {@link #awaitWritable} and {@link #write} are for {@link SnapshotSender} threads;
 * {@link #ready}, {@link #isClosed} and {@link #close} any thread.
 */
final class SnapshotLane implements ClientConnection.Listener {

  record TransferKey(long groupId, long snapshotId) {}

  private final String target;
  private final CompletableFuture<SnapshotLane> ready = new CompletableFuture<>();
  private final ConcurrentHashMap<TransferKey, CompletableFuture<Void>> verdicts =
      new ConcurrentHashMap<>();
  private final Object writable = new Object();
  private volatile ClientConnection connection;
  private volatile boolean closed;
  private volatile String closeReason = "";

  SnapshotLane(String target) {
    this.target = target;
  }

  void attach(ClientConnection c) {
    connection = c;
  }

  CompletableFuture<SnapshotLane> ready() {
    return ready;
  }

  boolean isClosed() {
    return closed;
  }

  void close() {
    ClientConnection c = connection;
    if (c != null) {
      c.channel().eventLoop().execute(() -> c.close("snapshot lane closed"));
    }
  }

  /** The future the receiver's verdict on this transfer completes. */
  CompletableFuture<Void> register(TransferKey key) {
    CompletableFuture<Void> verdict = new CompletableFuture<>();
    if (verdicts.putIfAbsent(key, verdict) != null) {
      throw new IllegalStateException("snapshot transfer " + key + " to " + target
          + " is already in progress");
    }
    if (closed) {
      verdicts.remove(key);
      verdict.completeExceptionally(new ConnectionLostException(target, false, closeReason));
    }
    return verdict;
  }

  void unregister(TransferKey key) {
    verdicts.remove(key);
  }

  /**
   * Waits until the lane can take another chunk. Returns false if the lane closed, or if it stayed
   * unwritable for {@code timeoutMs} (then {@link #isClosed()} is still false).
   */
  boolean awaitWritable(long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    synchronized (writable) {
      while (!closed && !connection.isWritable()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(writable, left);
      }
    }
    return !closed;
  }

  /** Writes and flushes one frame. Any thread. */
  void write(Frame frame) {
    ClientConnection c = connection;
    c.channel().writeAndFlush(Frames.encode(c.channel().alloc(), frame), c.channel().voidPromise());
  }

  @Override
  public void onReady(ClientConnection c) {
    ready.complete(this);
  }

  @Override
  public void onWritable(ClientConnection c) {
    synchronized (writable) {
      writable.notifyAll();
    }
  }

  @Override
  public void onClosed(ClientConnection c, String reason, boolean wasReady) {
    closeReason = reason;
    closed = true;
    ready.completeExceptionally(new ConnectionLostException(target, false, reason));
    for (CompletableFuture<Void> verdict : verdicts.values()) {
      verdict.completeExceptionally(new ConnectionLostException(target, true, reason));
    }
    synchronized (writable) {
      writable.notifyAll();
    }
  }

  @Override
  public void onSnapshotAck(ClientConnection c, SnapshotAck ack) {
    CompletableFuture<Void> verdict =
        verdicts.get(new TransferKey(ack.getGroupId(), ack.getSnapshotId()));
    if (verdict == null) {
      return; // the sender gave up on it already
    }
    if (ack.getStatus() == io.flotilla.engine.proto.SnapshotStatus.SNAPSHOT_STATUS_OK) {
      verdict.complete(null);
      return;
    }
    SnapshotTransferException.Reason reason = switch (ack.getStatus()) {
      case SNAPSHOT_STATUS_CHECKSUM_MISMATCH -> SnapshotTransferException.Reason.CHECKSUM_MISMATCH;
      case SNAPSHOT_STATUS_OUT_OF_ORDER -> SnapshotTransferException.Reason.OUT_OF_ORDER;
      case SNAPSHOT_STATUS_RECEIVER_FAILED -> SnapshotTransferException.Reason.RECEIVER_FAILED;
      case SNAPSHOT_STATUS_REJECTED -> SnapshotTransferException.Reason.REJECTED;
      default -> SnapshotTransferException.Reason.UNKNOWN;
    };
    verdict.completeExceptionally(new SnapshotTransferException(reason,
        "[group=" + ack.getGroupId() + " snapshot=" + ack.getSnapshotId() + "] " + target
            + " refused the snapshot: " + ack.getErrorMessage()));
  }
}
