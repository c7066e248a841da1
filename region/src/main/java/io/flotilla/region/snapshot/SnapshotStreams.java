package io.flotilla.region.snapshot;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/**
 * How the data of a Raft snapshot crosses the snapshot lane: what rides in the SNAPSHOT message (the
 * header) and what streams beside it in checksummed chunks (the body). {@link #HEAP}, for state
 * machines whose snapshot is a byte[] (PD, tests), sends the data as the body and an empty header;
 * stores use {@link FileSnapshotStreams}: the header is the region's descriptor, the body its SST
 * file, read from and written to disk.
 *
 * <p>Threads: {@link #outgoing} on the thread that sends (a poller); {@link #incoming} and the
 * {@link Incoming} methods on a transport event loop, so they must not block (they hand disk work
 * to a worker and return futures).
 */
public interface SnapshotStreams {

  /** What to send: {@code body} is closed when the transfer ends, whatever its outcome. */
  record Outgoing(byte[] header, InputStream body) {}

  /** The receiving end of one transfer. */
  interface Incoming {
    /** The next verified chunk; the next one comes after the future completes. */
    CompletableFuture<Void> write(byte[] chunk);

    /** All chunks came: completes, once the body is durable, with the data to hand to the group. */
    CompletableFuture<byte[]> complete();

    /** The transfer failed: release what it holds. */
    void abort();

    /** Bytes received so far. */
    long bytes();
  }

  /** The header and body for a snapshot whose data (as the state machine gave it) is {@code data}. */
  Outgoing outgoing(long groupId, byte[] data);

  /** Receives the body of a snapshot whose message carries {@code header}; throws if it cannot. */
  Incoming incoming(long groupId, byte[] header);

  /** What {@link Incoming#complete} made of a snapshot nobody took: release it. */
  default void discard(long groupId, byte[] data) {}

  /** Snapshots held in heap: the data is the body. */
  SnapshotStreams HEAP = new SnapshotStreams() {
    @Override
    public Outgoing outgoing(long groupId, byte[] data) {
      return new Outgoing(new byte[0], new ByteArrayInputStream(data));
    }

    @Override
    public Incoming incoming(long groupId, byte[] header) {
      if (header.length != 0) {
        // NB: a store's file snapshot reaching a node that is not ready for them (still starting).
        throw new IllegalStateException("group " + groupId + ": a snapshot with a " + header.length
            + "-byte header, but this node takes in-memory snapshots only (yet)");
      }
      ByteArrayOutputStream data = new ByteArrayOutputStream();
      return new Incoming() {
        @Override
        public CompletableFuture<Void> write(byte[] chunk) {
          data.write(chunk, 0, chunk.length);
          return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<byte[]> complete() {
          return CompletableFuture.completedFuture(data.toByteArray());
        }

        @Override
        public void abort() {
          data.reset();
        }

        @Override
        public long bytes() {
          return data.size();
        }
      };
    }
  };
}
