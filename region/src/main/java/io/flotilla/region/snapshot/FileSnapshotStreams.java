package io.flotilla.region.snapshot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Region snapshots on the snapshot lane, disk to disk: the SNAPSHOT message carries the descriptor
 * ({@link SnapshotData}, a few hundred bytes plus the de-duplication table), the body is the SST
 * file read from the leader's snap directory, and the receiver writes the chunks to {@code
 * recv-<region>-<index>-<n>.sst} in its own, fsyncs it, and hands the group a descriptor naming
 * that file. No copy of the region is ever held in heap.
 *
 * <p>A received file belongs to this class until {@link #claim}ed by the apply that ingests it;
 * files never claimed (the core refused the snapshot, the replica was dropped) are deleted after
 * {@code orphanMs}.
 *
 * <p>Threads: see {@link SnapshotStreams}; file writes and fsyncs run on the store's snapshot
 * worker, never on the event loop. {@link #claim} on a poller, {@link #expire} on the worker.
 */
final class FileSnapshotStreams implements SnapshotStreams {
  private static final Logger LOG = LoggerFactory.getLogger(FileSnapshotStreams.class);

  private final SnapshotBuilds builds;
  private final Path snapDir;
  private final Executor worker;
  private final long orphanNanos;
  /** Received files not yet claimed, with when they were completed. */
  private final Map<String, Long> received = new ConcurrentHashMap<>();
  private final AtomicLong seq = new AtomicLong();
  /** Bytes of SST written to received files (tests). */
  final AtomicLong bytesReceived = new AtomicLong();

  FileSnapshotStreams(SnapshotBuilds builds, Path snapDir, Executor worker, long orphanMs) {
    this.builds = builds;
    this.snapDir = snapDir;
    this.worker = worker;
    this.orphanNanos = TimeUnit.MILLISECONDS.toNanos(orphanMs);
  }

  @Override
  public Outgoing outgoing(long groupId, byte[] data) {
    SnapshotData d = SnapshotData.decode(data);
    try {
      InputStream body = builds.open(d);
      return new Outgoing(data, body);
    } catch (IOException e) {
      throw new UncheckedIOException("[region=" + groupId + "] cannot open snapshot at " + d.metadata().index(), e);
    }
  }

  @Override
  public Incoming incoming(long groupId, byte[] header) {
    if (!SnapshotData.isDescriptor(header)) {
      throw new IllegalArgumentException("[region=" + groupId + "] snapshot header of " + header.length
          + " bytes is not a region snapshot descriptor");
    }
    SnapshotData d = SnapshotData.decode(header);
    Path file = snapDir.resolve("recv-" + groupId + "-" + d.metadata().index() + "-" + seq.incrementAndGet() + ".sst");
    return new FileIncoming(groupId, d, file);
  }

  @Override
  public void discard(long groupId, byte[] data) {
    SnapshotData d = SnapshotData.decode(data);
    if (d.hasSst() && claim(d.sstFile())) {
      deleteQuietly(Path.of(d.sstFile()));
    }
  }

  /**
   * Takes ownership of a received file for the apply that ingests it; false if it was never
   * received here or was already deleted as an orphan.
   */
  boolean claim(String file) {
    return received.remove(file) != null;
  }

  /** Deletes received files nobody claimed within {@code orphanMs}. On the worker. */
  void expire(long nowNanos) {
    List<String> old = new ArrayList<>();
    received.forEach((f, at) -> {
      if (nowNanos - at > orphanNanos) {
        old.add(f);
      }
    });
    for (String f : old) {
      if (received.remove(f) != null) {
        LOG.info("deleting snapshot file {}: received {} s ago and never applied", f, orphanNanos / 1_000_000_000L);
        deleteQuietly(Path.of(f));
      }
    }
  }

  /** One transfer; its calls come one at a time (the lane waits for each future). */
  private final class FileIncoming implements Incoming {
    private final long groupId;
    private final SnapshotData descriptor;
    private final Path file;
    private FileChannel channel;
    private volatile long written;

    FileIncoming(long groupId, SnapshotData descriptor, Path file) {
      this.groupId = groupId;
      this.descriptor = descriptor;
      this.file = file;
    }

    @Override
    public CompletableFuture<Void> write(byte[] chunk) {
      if (chunk.length == 0) {
        return CompletableFuture.completedFuture(null); // an empty region's one empty chunk: no file
      }
      return CompletableFuture.runAsync(() -> {
        try {
          if (channel == null) {
            channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          }
          ByteBuffer buf = ByteBuffer.wrap(chunk);
          while (buf.hasRemaining()) {
            channel.write(buf);
          }
          written += chunk.length;
        } catch (IOException e) {
          throw new UncheckedIOException("[region=" + groupId + "] writing " + file + " failed", e);
        }
      }, worker);
    }

    @Override
    public CompletableFuture<byte[]> complete() {
      return CompletableFuture.supplyAsync(() -> {
        if (written != descriptor.sstBytes()) {
          closeAndDelete();
          throw new IllegalStateException("[region=" + groupId + "] snapshot at " + descriptor.metadata().index()
              + " brought " + written + " bytes of SST, its descriptor says " + descriptor.sstBytes());
        }
        if (!descriptor.hasSst()) {
          return descriptor.withSstFile("").encode();
        }
        try (FileChannel ch = channel) {
          ch.force(true);
          syncDir(snapDir);
        } catch (IOException e) {
          deleteQuietly(file);
          throw new UncheckedIOException("[region=" + groupId + "] syncing " + file + " failed", e);
        }
        bytesReceived.addAndGet(written);
        received.put(file.toString(), System.nanoTime());
        return descriptor.withSstFile(file.toString()).encode();
      }, worker);
    }

    @Override
    public void abort() {
      try {
        worker.execute(this::closeAndDelete);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        closeAndDelete();
      }
    }

    @Override
    public long bytes() {
      return written;
    }

    private void closeAndDelete() {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException e) {
          LOG.warn("[region={}] closing {}: {}", groupId, file, e.toString());
        }
      }
      deleteQuietly(file);
    }
  }

  /** Makes the directory entry of a new file durable (Linux; a no-op where directories cannot be opened). */
  static void syncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG.debug("cannot fsync directory {}: {}", dir, e.toString());
    }
  }

  static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", p, e.toString());
    }
  }
}
