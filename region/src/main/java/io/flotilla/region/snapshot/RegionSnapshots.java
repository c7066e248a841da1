package io.flotilla.region.snapshot;

import io.flotilla.engine.Threads;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.region.peer.DedupEntry;
import io.flotilla.region.peer.RegionRecords;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.Keys;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.RocksRaftStorage;
import io.flotilla.region.storage.SstFiles;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.txn.MvccKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds and applies region snapshots as SST files, on disk end to end.
 *
 * <p><b>Build</b> (leader): the poller asks {@link #request}; the first ask takes a storage snapshot
 * ({@link KvSnapshot}) and hands it to the store's snapshot worker ({@code <name>-N} threads), which
 * writes the region's range of {@link Cf#DATA} and of the transaction families with {@link
 * SstFiles#write} to {@code <snapDir>/send-*.sst} (one SST per non-empty family, one after the
 * other: {@link SnapshotData#parts()}); until then the answer is "unavailable" and the Raft core
 * asks again on a later heartbeat response ({@link SnapshotBuilds}). The Raft message carries only the {@link SnapshotData} descriptor; the SST is
 * streamed from disk by {@link #streams()} and deleted once sent.
 *
 * <p><b>Apply</b> (receiver): the chunks are written to {@code <snapDir>/recv-*.sst} and fsynced by
 * the worker before the group sees the message. Then, with crash safety (steps 2 and 3 on the
 * driver's restore worker while the group waits, {@code StateMachine#prepareRestore}; step 4 on the
 * group's thread, in the round's batch):
 *
 * <ol>
 *   <li>the received SST file is durable (above);
 *   <li>a marker {@code regionId ++ 0x12} holding the descriptor (which names that file) is written
 *       (own write, fsynced if the storage fsyncs);
 *   <li>the region's range is deleted in every family and each part ingested into its family
 *       (RocksDB copies a one-part file, ours stays; the parts of a longer one are copied out and
 *       moved in);
 *   <li>the round's batch records the snapshot in the Raft storage, the applied index, the region
 *       record and dedup table, and deletes the marker (one fsync with everything else); the file
 *       goes once that batch is durable.
 * </ol>
 *
 * A crash after 2 and before 4 leaves new data under an old applied index. {@link #recover} runs
 * at startup, before any group starts, and rolls such a region forward: re-deletes the range,
 * re-ingests (idempotent), and writes what step 4 would have written, with a hard state whose
 * commit (and term, if older) covers the snapshot. A crash before 2 leaves the old state untouched
 * (the file is garbage, removed by recover). Nothing acknowledged the snapshot before 4 was durable
 * (the driver sends its answer after the batch), so the leader simply sees the follower as before.
 * Steps 2 and 3 stay off the pollers (two synced writes and the ingest, which may flush a memtable):
 * other groups' rounds go on meanwhile; the ingest lands before the round's batch acknowledges the
 * snapshot.
 *
 * <p>Threads: {@link #request} and {@link #finish} on the thread driving the group, {@link #ingest}
 * on the driver's restore worker for a group that waits for it;
 * {@link #recover} before the driver starts; {@link #close} once, after the driver stopped asking.
 */
public final class RegionSnapshots implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RegionSnapshots.class);
  /** A ready snapshot nobody sends is deleted after this long. */
  static final long IDLE_MS = 60_000;
  /** A received snapshot nobody applies is deleted after this long. */
  static final long ORPHAN_MS = 10 * 60_000;

  private final NodeStorage storage;
  private final Path snapDir;
  private final ScheduledThreadPoolExecutor worker;
  private final SnapshotBuilds builds;
  private final FileSnapshotStreams streams;

  /** For tests: the worker's threads are named {@code flotilla-snap-N}. */
  public RegionSnapshots(NodeStorage storage, Path snapDir) {
    this(storage, snapDir, "flotilla-snap");
  }

  /** {@code workerName}: the snapshot worker's threads are {@code workerName-N} (e.g. {@code flotilla-store-4-snap}). */
  public RegionSnapshots(NodeStorage storage, Path snapDir, String workerName) {
    this.storage = storage;
    this.snapDir = snapDir;
    try {
      Files.createDirectories(snapDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create snapshot directory " + snapDir, e);
    }
    this.worker = new ScheduledThreadPoolExecutor(2, Threads.numbered(workerName));
    this.builds = new SnapshotBuilds(storage, snapDir, worker, IDLE_MS);
    this.streams = new FileSnapshotStreams(builds, snapDir, worker, ORPHAN_MS);
    worker.scheduleWithFixedDelay(this::expire, 5, 5, TimeUnit.SECONDS);
  }

  private void expire() {
    long now = System.nanoTime();
    builds.expire(now);
    streams.expire(now);
  }

  /**
   * The descriptor of a ready snapshot of the region that a follower can continue from after the
   * group's log as it is now (see {@link SnapshotBuilds#request}).
   *
   * @throws io.flotilla.engine.raft.UnavailableException while it is being built
   */
  public SnapshotData request(long regionId, SnapshotMetadata appliedNow, Region region,
      Map<Long, DedupEntry> dedup) {
    return request(regionId, appliedNow, region, dedup, storage.group(regionId).firstIndex());
  }

  /** {@link #request} for a log starting at {@code firstIndex}. */
  public SnapshotData request(long regionId, SnapshotMetadata appliedNow, Region region,
      Map<Long, DedupEntry> dedup, long firstIndex) {
    return builds.request(regionId, appliedNow, region, dedup, firstIndex);
  }

  /** How this store's snapshots cross the snapshot lane: give it to the node's transport. */
  public SnapshotStreams streams() {
    return streams;
  }

  /** Builds started, built, failed; requests answered unavailable and served; files deleted. */
  public long[] counters() {
    SnapshotBuilds.Stats s = builds.stats;
    return new long[] {s.started.get(), s.built.get(), s.failed.get(), s.unavailable.get(), s.served.get(),
        s.filesDeleted.get()};
  }

  /** Names of the threads that wrote a build's SST file. */
  public java.util.Set<String> builderThreads() {
    return java.util.Set.copyOf(builds.stats.builderThreads);
  }

  /** Bytes of SST received into files. */
  public long bytesReceived() {
    return streams.bytesReceived.get();
  }

  /** Ready snapshots whose file is still kept. */
  public int keptBuilds() {
    return builds.kept();
  }

  /**
   * Writes the region's keys as seen by {@code snap} to {@code file}: the SST of its {@code data}
   * range, then those of its range in each transaction family ({@code [mc(start), mc(end))}),
   * appended; returns the parts (none, and no file, when the region holds no keys). A region
   * without transaction data costs what it did before: its file is the {@code data} SST. Blocking:
   * on a worker.
   */
  static List<SnapshotData.Part> writeSst(KvSnapshot snap, Region region, Path file,
      java.util.function.BooleanSupplier cancelled) {
    List<SnapshotData.Part> parts = new ArrayList<>();
    try {
      long data = SstFiles.write(snap, Cf.DATA, region.getStartKey().toByteArray(), region.getEndKey().toByteArray(),
          file, cancelled);
      if (data > 0) {
        parts.add(new SnapshotData.Part(Cf.DATA, data));
      }
      byte[] lower = MvccKeys.rangeStart(region);
      byte[] upper = MvccKeys.rangeEnd(region);
      for (Cf cf : Cf.TXN) {
        if (!RegionRecords.hasKeyIn(snap, cf, lower, upper)) {
          continue; // a raw-only region: no SST writer for nothing
        }
        Path one = file.resolveSibling(file.getFileName() + "." + cf.familyName());
        try {
          long bytes = SstFiles.write(snap, cf, lower, upper, one, cancelled);
          if (bytes > 0) {
            append(file, one);
            parts.add(new SnapshotData.Part(cf, bytes));
          }
        } finally {
          FileSnapshotStreams.deleteQuietly(one);
        }
      }
      return parts;
    } catch (RuntimeException e) {
      FileSnapshotStreams.deleteQuietly(file);
      throw e;
    }
  }

  private static void append(Path file, Path part) {
    try (var out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      Files.copy(part, out);
    } catch (IOException e) {
      throw new UncheckedIOException("appending " + part + " to snapshot file " + file + " failed", e);
    }
  }

  static long total(List<SnapshotData.Part> parts) {
    long sum = 0;
    for (SnapshotData.Part p : parts) {
      sum += p.bytes();
    }
    return sum;
  }

  /** A snapshot of the region as it is now, written to {@code file} on this thread (tests, tools). */
  public SnapshotData buildNow(SnapshotMetadata metadata, Region region, Map<Long, DedupEntry> dedup, Path file) {
    try (KvSnapshot snap = storage.reader().snapshot()) {
      List<SnapshotData.Part> parts = writeSst(snap, region, file, () -> false);
      long bytes = total(parts);
      return new SnapshotData(metadata, region, dedup, bytes > 0 ? file.toString() : "", bytes, parts);
    }
  }

  /**
   * Steps 2 and 3 of applying a snapshot (see the class comment) whose SST is the durable file
   * {@code data} names; the caller puts step 4 in the round's batch and calls {@link #finish} with it.
   */
  public void ingest(long regionId, SnapshotData data) {
    if (data.hasSst() && !streams.claim(data.sstFile()) && !Files.exists(Path.of(data.sstFile()))) {
      throw new IllegalStateException("[region=" + regionId + "] snapshot at " + data.metadata().index()
          + ": its SST file " + data.sstFile() + " is gone");
    }
    try (StorageBatch marker = storage.newBatch()) {
      marker.put(Cf.META, RegionRecords.snapshotApplyingKey(regionId), data.encode());
      storage.write(marker);
    }
    replaceRange(data);
  }

  /** Step 4: the marker goes, and the file once the batch is durable. */
  public void finish(long regionId, SnapshotData data, StorageBatch batch) {
    batch.delete(Cf.META, RegionRecords.snapshotApplyingKey(regionId));
    if (data.hasSst()) {
      Path file = Path.of(data.sstFile());
      batch.onWritten(() -> FileSnapshotStreams.deleteQuietly(file));
    }
  }

  /**
   * Finishes every snapshot apply a crash interrupted (see the class comment), and removes stray
   * files (snapshots half built, half received, or never applied). Run before the groups start.
   */
  public void recover() {
    List<Long> pending = new ArrayList<>();
    List<byte[]> descriptors = new ArrayList<>();
    try (KvSnapshot snap = storage.reader().snapshot()) {
      snap.scan(Cf.META, new byte[0], new byte[0], at -> {
        byte[] k = at.key();
        if (k.length == 9 && (k[8] & 0xff) == RegionRecords.TAG_SNAPSHOT_APPLYING) {
          pending.add(Keys.groupId(k));
          descriptors.add(at.value());
        }
        return true;
      });
    }
    for (int i = 0; i < pending.size(); i++) {
      rollForward(pending.get(i), descriptors.get(i));
    }
    try (var stream = Files.list(snapDir)) {
      stream.forEach(FileSnapshotStreams::deleteQuietly);
    } catch (IOException e) {
      LOG.warn("cannot clean snapshot directory {}: {}", snapDir, e.toString());
    }
  }

  private void rollForward(long regionId, byte[] descriptor) {
    if (!SnapshotData.isDescriptor(descriptor)) {
      throw new IllegalStateException("[region=" + regionId + "] a snapshot apply was interrupted by a crash and its"
          + " marker holds no snapshot descriptor (written by an older version?); the data directory cannot be"
          + " recovered automatically: rebuild this store's replica of the region");
    }
    SnapshotData data = SnapshotData.decode(descriptor);
    if (data.hasSst() && !Files.exists(Path.of(data.sstFile()))) {
      throw new IllegalStateException("[region=" + regionId + "] a snapshot apply was interrupted by a crash and its"
          + " SST file " + data.sstFile() + " is gone; the data directory cannot be recovered automatically");
    }
    SnapshotMetadata meta = data.metadata();
    replaceRange(data);
    RocksRaftStorage rs = storage.group(regionId);
    try (StorageBatch b = storage.newBatch()) {
      if (rs.snapshotMetadata().index() < meta.index()) {
        b.applySnapshot(regionId, meta);
      }
      HardState hs = rs.hardState();
      long term = Math.max(hs.term(), meta.term());
      b.setHardState(regionId, new HardState(term, term == hs.term() ? hs.vote() : 0, Math.max(hs.commit(), meta.index())));
      if (rs.appliedIndex() < meta.index()) {
        b.setApplied(regionId, meta.index());
      }
      RegionRecords.Loaded old = RegionRecords.load(storage.reader(), regionId);
      long peerId = old == null ? 0 : old.peerId();
      writeRecords(b, regionId, peerId, data);
      b.delete(Cf.META, RegionRecords.snapshotApplyingKey(regionId));
      storage.write(b);
    }
    LOG.info("[region={}] finished applying snapshot at index {} interrupted by a crash", regionId, meta.index());
  }

  /** Region record and dedup table of a snapshot into {@code batch}. */
  public static void writeRecords(StorageBatch batch, long regionId, long peerId, SnapshotData data) {
    batch.put(Cf.META, RegionRecords.regionKey(regionId),
        RegionRecords.encodeRegion(io.flotilla.region.peer.RegionPeer.State.NORMAL, peerId, data.region()));
    batch.deleteRange(Cf.META, RegionRecords.dedupStart(regionId), RegionRecords.dedupEnd(regionId));
    for (Map.Entry<Long, DedupEntry> e : data.dedup().entrySet()) {
      batch.put(Cf.META, RegionRecords.dedupKey(regionId, e.getKey()), RegionRecords.encodeDedup(e.getValue()));
    }
  }

  /**
   * Deletes the region's range in every family (DATA, and {@code [mc(start), mc(end))} in the
   * transaction families) and ingests each part of the snapshot's file into its family (idempotent).
   */
  private void replaceRange(SnapshotData data) {
    Region region = data.region();
    try (StorageBatch del = storage.newBatch()) {
      RegionRecords.deleteKeys(del, storage.reader(), region.getStartKey().toByteArray(),
          region.getEndKey().toByteArray());
      storage.write(del);
    }
    if (!data.hasSst()) {
      return;
    }
    Path file = Path.of(data.sstFile());
    if (data.parts().size() == 1) {
      // NB: copied, not moved: the file must survive the ingest for a roll-forward after a crash.
      SstFiles.ingest(storage, data.parts().get(0).cf(), file, false);
      return;
    }
    long offset = 0;
    for (SnapshotData.Part p : data.parts()) {
      Path one = file.resolveSibling(file.getFileName() + "." + p.cf().familyName());
      try {
        copyRange(file, offset, p.bytes(), one);
        SstFiles.ingest(storage, p.cf(), one, true);
      } finally {
        FileSnapshotStreams.deleteQuietly(one);
      }
      offset += p.bytes();
    }
  }

  /** Copies {@code length} bytes of {@code from} at {@code offset} into a new file {@code to}. */
  private static void copyRange(Path from, long offset, long length, Path to) {
    try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
        FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      long done = 0;
      while (done < length) {
        long n = in.transferTo(offset + done, length - done, out);
        if (n <= 0) {
          throw new IOException("snapshot file " + from + " ends before byte " + (offset + length));
        }
        done += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("splitting snapshot file " + from + " failed", e);
    }
  }

  /** Stops the worker (waiting for a build in progress, which reads RocksDB): before the storage closes. */
  @Override
  public void close() {
    builds.close();
    // NB: not shutdownNow: a build still queued must run to release its RocksDB snapshot (it stops at once).
    worker.shutdown();
    try {
      if (!worker.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("snapshot worker did not stop within 10 s [dir={}]", snapDir);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
