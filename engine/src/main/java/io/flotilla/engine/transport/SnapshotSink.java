package io.flotilla.engine.transport;

import java.util.concurrent.CompletableFuture;

/**
 * Receives the verified chunks of one snapshot transfer, in order.
 *
 * <p>Flow control: the transport hands over the next chunk only after the future returned for the
 * previous one completes, and stops reading the snapshot lane meanwhile, so a slow sink slows the
 * sender down instead of filling memory.
 *
 * <p>Threads: all methods are called on one transport event loop thread, one at a time; they must
 * not block. The returned futures may be completed from any thread.
 */
public interface SnapshotSink {

  /** The next chunk, its CRC32C already verified. A failed future aborts the transfer. */
  CompletableFuture<Void> onChunk(byte[] data);

  /**
   * All chunks were delivered. The sender learns of success only when this future completes
   * normally, so complete it once the snapshot is durable.
   */
  CompletableFuture<Void> onComplete();

  /**
   * The transfer failed (bad checksum, chunks out of order, lost connection, or this sink failed).
   * No further calls follow. Release what the transfer holds.
   */
  void onAbort(Throwable cause);
}
