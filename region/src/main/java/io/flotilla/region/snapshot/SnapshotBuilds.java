package io.flotilla.region.snapshot;

import io.flotilla.engine.proto.Region;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.UnavailableException;
import io.flotilla.region.peer.DedupEntry;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.NodeStorage;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshots a store's leaders build for lagging followers, one at most per region, each an SST
 * file under the snap directory built by a worker, never by a poller.
 *
 * <p>Life of a build:
 *
 * <table>
 *   <caption>build states</caption>
 *   <tr><th>state</th><th>entered by</th><th>a request for the region</th></tr>
 *   <tr><td>building</td><td>a request found none usable: the poller takes a RocksDB snapshot (cheap)
 *       and hands the SST writing to the worker</td><td>{@link UnavailableException}: the core
 *       retries on a later heartbeat response</td></tr>
 *   <tr><td>ready</td><td>the worker finished the file</td><td>served (the descriptor), if still
 *       usable: same membership, and the log still holds the entries after it</td></tr>
 *   <tr><td>retired</td><td>the last stream sending it closed; it failed; it went unusable;
 *       or nobody opened it for {@code idleMs}</td><td>a new build starts</td></tr>
 * </table>
 *
 * A ready build may be sent to several followers at once ({@link #open} counts the streams); its
 * file is deleted when it is retired and no stream still reads it.
 *
 * <p>Threads: {@link #request} on the poller driving the group; {@link #open} on the sending
 * thread; the stream's close on a transport sender thread; {@link #expire} on the worker. All
 * state is guarded by {@code this} (a few calls per snapshot, never on the write path).
 */
final class SnapshotBuilds {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotBuilds.class);

  /** Counters for tests and operators. */
  static final class Stats {
    final AtomicLong started = new AtomicLong();
    final AtomicLong built = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong unavailable = new AtomicLong();
    final AtomicLong served = new AtomicLong();
    final AtomicLong filesDeleted = new AtomicLong();
    /** The threads that ran SstFileWriter (a poller must never be one). */
    final java.util.Set<String> builderThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
  }

  private static final class Build {
    final long groupId;
    final ConfState confState;
    final long index;
    final long startedNanos = System.nanoTime();
    SnapshotData data; // set when ready
    boolean failed;
    boolean retired;
    int streams;
    long lastUsedNanos = System.nanoTime();

    Build(long groupId, SnapshotMetadata meta) {
      this.groupId = groupId;
      this.confState = meta.confState();
      this.index = meta.index();
    }
  }

  private final NodeStorage storage;
  private final Path snapDir;
  private final Executor worker;
  private final long idleNanos;
  private final Map<Long, Build> byGroup = new HashMap<>();
  private final Map<String, Build> byFile = new HashMap<>();
  private final AtomicLong seq = new AtomicLong();
  private volatile boolean closed;
  final Stats stats = new Stats();

  SnapshotBuilds(NodeStorage storage, Path snapDir, Executor worker, long idleMs) {
    this.storage = storage;
    this.snapDir = snapDir;
    this.worker = worker;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMs);
  }

  /**
   * The descriptor of a ready snapshot of {@code groupId} that a follower can continue from (same
   * membership as {@code now}, index at least {@code firstIndex - 1}); else starts building one at
   * {@code now} (the state as applied now, read through a RocksDB snapshot taken here) and throws
   * {@link UnavailableException}.
   */
  synchronized SnapshotData request(long groupId, SnapshotMetadata now, Region region, Map<Long, DedupEntry> dedup,
      long firstIndex) {
    Build b = byGroup.get(groupId);
    if (b != null && b.data == null && !b.failed) {
      stats.unavailable.incrementAndGet();
      throw new UnavailableException("region " + groupId + ": snapshot at " + b.index + " is being built");
    }
    if (b != null && !b.failed && b.confState.equals(now.confState()) && b.index + 1 >= firstIndex) {
      b.lastUsedNanos = System.nanoTime();
      stats.served.incrementAndGet();
      return b.data;
    }
    if (b != null) {
      retire(b);
    }
    start(groupId, now, region, dedup);
    stats.unavailable.incrementAndGet();
    throw new UnavailableException("region " + groupId + ": snapshot at " + now.index() + " is being built");
  }

  private void start(long groupId, SnapshotMetadata meta, Region region, Map<Long, DedupEntry> dedup) {
    Build b = new Build(groupId, meta);
    Path file = snapDir.resolve("send-" + groupId + "-" + meta.index() + "-" + seq.incrementAndGet() + ".sst");
    KvSnapshot snap = storage.reader().snapshot();
    try {
      worker.execute(() -> build(b, meta, region, dedup, snap, file));
    } catch (RejectedExecutionException e) {
      snap.close();
      throw new UnavailableException("region " + groupId + ": the snapshot worker is stopped");
    }
    byGroup.put(groupId, b);
    stats.started.incrementAndGet();
  }

  /** On the worker. */
  private void build(Build b, SnapshotMetadata meta, Region region, Map<Long, DedupEntry> dedup,
      KvSnapshot snap, Path file) {
    SnapshotData data = null;
    try {
      if (closed) {
        throw new IllegalStateException("the store is closing");
      }
      stats.builderThreads.add(Thread.currentThread().getName());
      List<SnapshotData.Part> parts = RegionSnapshots.writeSst(snap, region, file, () -> closed);
      long bytes = RegionSnapshots.total(parts);
      data = new SnapshotData(meta, region, dedup, bytes > 0 ? file.toString() : "", bytes, parts);
      LOG.info("[region={}] snapshot at index {} built: {} bytes in {} ms", b.groupId, meta.index(), bytes,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - b.startedNanos));
    } catch (RuntimeException e) {
      LOG.warn("[region={}] building the snapshot at index {} failed; the next request retries: {}", b.groupId,
          meta.index(), e.toString());
    } finally {
      snap.close();
    }
    finishBuild(b, data, file);
  }

  private synchronized void finishBuild(Build b, SnapshotData data, Path file) {
    if (data == null) {
      b.failed = true;
      stats.failed.incrementAndGet();
      deleteQuietly(file);
      return;
    }
    b.data = data;
    b.lastUsedNanos = System.nanoTime();
    stats.built.incrementAndGet();
    if (data.hasSst()) {
      byFile.put(data.sstFile(), b);
    }
    if (b.retired || byGroup.get(b.groupId) != b) {
      retire(b);
    }
  }

  /**
   * The SST of a descriptor {@link #request} served, to stream; closing the stream releases it.
   * Throws if the build is gone (the send fails and the core asks again).
   */
  synchronized InputStream open(SnapshotData d) throws IOException {
    if (!d.hasSst()) {
      return InputStream.nullInputStream();
    }
    Build b = byFile.get(d.sstFile());
    if (b == null || b.data == null) {
      throw new IOException("snapshot file " + d.sstFile() + " is no longer kept");
    }
    InputStream in = Files.newInputStream(Path.of(d.sstFile()));
    b.streams++;
    return new FilterInputStream(in) {
      private boolean closed;

      @Override
      public void close() throws IOException {
        if (!closed) {
          closed = true;
          super.close();
          closed(b);
        }
      }
    };
  }

  /** A stream of {@code b} closed: once sent, a snapshot is not kept (the next request builds afresh). */
  private synchronized void closed(Build b) {
    b.streams--;
    b.lastUsedNanos = System.nanoTime();
    if (b.streams == 0) {
      retire(b);
    }
  }

  /** Retires builds nobody used for {@code idleMs}. On the worker, periodically. */
  synchronized void expire(long nowNanos) {
    List<Build> idle = new ArrayList<>();
    for (Build b : byGroup.values()) {
      if (b.data != null && b.streams == 0 && nowNanos - b.lastUsedNanos > idleNanos) {
        idle.add(b);
      }
    }
    idle.forEach(this::retire);
  }

  /** Builds still queued or running give up (releasing their RocksDB snapshot): the store closes. */
  void close() {
    closed = true;
  }

  /** Ready builds not yet deleted (tests). */
  synchronized int kept() {
    return (int) byGroup.values().stream().filter(b -> b.data != null).count();
  }

  private void retire(Build b) {
    b.retired = true;
    if (byGroup.get(b.groupId) == b) {
      byGroup.remove(b.groupId);
    }
    if (b.data == null || b.streams > 0) {
      return; // the worker (finishBuild) or the last stream (closed) comes back here
    }
    if (b.data.hasSst() && byFile.remove(b.data.sstFile()) != null) {
      deleteQuietly(Path.of(b.data.sstFile()));
      stats.filesDeleted.incrementAndGet();
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.warn("cannot delete snapshot file {}: {}", p, e.toString());
    }
  }
}
