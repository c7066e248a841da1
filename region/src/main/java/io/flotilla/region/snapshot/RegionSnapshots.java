package io.flotilla.region.snapshot;

import io.flotilla.engine.proto.Region;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.region.peer.DedupEntry;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.peer.RegionRecords;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.Keys;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.RocksRaftStorage;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.storage.StorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.SstFileWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds and applies region snapshots as SST files.
 *
 * <p><b>Build</b> (leader, on the group's thread): a RocksDB snapshot of the region's range in
 * {@link Cf#DATA} is written with {@link SstFileWriter} to a temporary file whose bytes travel in
 * {@link SnapshotData} with the region meta and de-duplication table.
 *
 * <p><b>Apply</b> (receiver, on the group's thread, inside the round's batch) and its crash safety.
 * The data must reach RocksDB before the round's batch (ingestion is not part of a write batch), so:
 *
 * <ol>
 *   <li>the whole snapshot is written to {@code <snapDir>/region-<id>-<index>.snap} and fsynced;
 *   <li>a marker {@code regionId ++ 0x12} naming that file is written (own write, fsynced if the
 *       storage fsyncs);
 *   <li>the region's range is deleted and the SST ingested;
 *   <li>the round's batch records the snapshot in the Raft storage, the applied index, the region
 *       record and dedup table, and deletes the marker (one fsync with everything else).
 * </ol>
 *
 * A crash after 2 and before 4 leaves new data under an old applied index. {@link #recover} runs
 * at startup, before any group starts, and rolls such a region forward: re-deletes the range,
 * re-ingests (idempotent), and writes what step 4 would have written, with a hard state whose
 * commit (and term, if older) covers the snapshot. A crash before 2 leaves the old state untouched
 * (the file is garbage, removed by recover). Nothing acknowledged the snapshot before 4 was durable
 * (the driver sends its answer after the batch), so the leader simply sees the follower as before.
 *
 * <p>Threads: {@link #build} and {@link #ingest} on the thread driving the group; {@link #recover}
 * before the driver starts.
 */
public final class RegionSnapshots {
  private static final Logger LOG = LoggerFactory.getLogger(RegionSnapshots.class);

  private final NodeStorage storage;
  private final Path snapDir;

  public RegionSnapshots(NodeStorage storage, Path snapDir) {
    this.storage = storage;
    this.snapDir = snapDir;
    try {
      Files.createDirectories(snapDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create snapshot directory " + snapDir, e);
    }
  }

  /** A snapshot of {@code region} as applied now at {@code metadata}. */
  public SnapshotData build(SnapshotMetadata metadata, Region region, Map<Long, DedupEntry> dedup) {
    Path tmp = snapDir.resolve("build-" + region.getId() + "-" + metadata.index() + "-" + System.nanoTime() + ".sst");
    Snapshot rs = storage.db().getSnapshot();
    byte[] start = region.getStartKey().toByteArray();
    byte[] end = region.getEndKey().toByteArray();
    long keys = 0;
    try (Slice upper = end.length == 0 ? null : new Slice(end);
        ReadOptions ro = new ReadOptions().setSnapshot(rs);
        EnvOptions env = new EnvOptions();
        Options opts = new Options();
        SstFileWriter writer = new SstFileWriter(env, opts)) {
      if (upper != null) {
        ro.setIterateUpperBound(upper);
      }
      try (RocksIterator it = storage.db().newIterator(storage.handle(Cf.DATA), ro)) {
        it.seek(start);
        for (; it.isValid(); it.next()) {
          if (keys == 0) {
            writer.open(tmp.toString());
          }
          writer.put(it.key(), it.value());
          keys++;
        }
        it.status();
      }
      byte[] sst = new byte[0];
      if (keys > 0) {
        writer.finish();
        sst = Files.readAllBytes(tmp);
      }
      return new SnapshotData(metadata, region, dedup, sst);
    } catch (RocksDBException e) {
      throw new StorageException("region " + region.getId() + ": building snapshot failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("region " + region.getId() + ": reading snapshot SST failed", e);
    } finally {
      storage.db().releaseSnapshot(rs);
      deleteQuietly(tmp);
    }
  }

  /**
   * Steps 1 to 3 of applying a snapshot (see the class comment); the caller puts step 4 in the
   * round's batch and calls {@link #finish} with it.
   */
  public void ingest(long regionId, byte[] encoded, SnapshotData data) {
    Path file = snapFile(regionId, data.metadata().index());
    writeDurably(file, encoded);
    try (StorageBatch marker = storage.newBatch()) {
      marker.put(Cf.META, RegionRecords.snapshotApplyingKey(regionId), file.toString().getBytes(StandardCharsets.UTF_8));
      storage.write(marker);
    }
    replaceRange(data);
  }

  /** Step 4: the marker goes, and the file once the batch is durable. */
  public void finish(long regionId, long index, StorageBatch batch) {
    batch.delete(Cf.META, RegionRecords.snapshotApplyingKey(regionId));
    Path file = snapFile(regionId, index);
    batch.onWritten(() -> deleteQuietly(file));
  }

  /**
   * Finishes every snapshot apply a crash interrupted (see the class comment), and removes stray
   * files. Run before the groups start.
   */
  public void recover() {
    List<long[]> pending = new ArrayList<>();
    List<String> files = new ArrayList<>();
    try (ReadOptions ro = new ReadOptions();
        RocksIterator it = storage.db().newIterator(storage.handle(Cf.META), ro)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (k.length == 9 && (k[8] & 0xff) == RegionRecords.TAG_SNAPSHOT_APPLYING) {
          pending.add(new long[] {Keys.groupId(k)});
          files.add(new String(it.value(), StandardCharsets.UTF_8));
        }
      }
    }
    for (int i = 0; i < pending.size(); i++) {
      rollForward(pending.get(i)[0], Path.of(files.get(i)));
    }
    try (var stream = Files.list(snapDir)) {
      stream.forEach(RegionSnapshots::deleteQuietly);
    } catch (IOException e) {
      LOG.warn("cannot clean snapshot directory {}: {}", snapDir, e.toString());
    }
  }

  private void rollForward(long regionId, Path file) {
    byte[] encoded;
    try {
      encoded = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("region " + regionId + ": a snapshot apply was interrupted and its file "
          + file + " cannot be read; the data directory cannot be recovered automatically", e);
    }
    SnapshotData data = SnapshotData.decode(encoded);
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
      RegionRecords.Loaded old = RegionRecords.load(storage, regionId);
      long peerId = old == null ? 0 : old.peerId();
      writeRecords(b, regionId, peerId, data);
      b.delete(Cf.META, RegionRecords.snapshotApplyingKey(regionId));
      storage.write(b);
    }
    LOG.info("region {}: finished applying snapshot at index {} interrupted by a crash", regionId, meta.index());
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

  /** Deletes the region's range in DATA and ingests the snapshot's SST (idempotent). */
  private void replaceRange(SnapshotData data) {
    Region region = data.region();
    byte[] start = region.getStartKey().toByteArray();
    byte[] end = region.getEndKey().toByteArray();
    if (end.length == 0) {
      byte[] last = RegionRecords.lastDataKeyFrom(storage, start);
      end = last == null ? null : KeyRange.successor(last);
    }
    if (end != null && !KeyRange.isEmpty(start, end)) {
      try (StorageBatch del = storage.newBatch()) {
        del.deleteRange(Cf.DATA, start, end);
        storage.write(del);
      }
    }
    if (data.sst().length == 0) {
      return;
    }
    Path sst = snapDir.resolve("ingest-" + region.getId() + "-" + data.metadata().index() + ".sst");
    writeDurably(sst, data.sst());
    try (IngestExternalFileOptions opts = new IngestExternalFileOptions()) {
      opts.setMoveFiles(false);
      opts.setAllowGlobalSeqNo(true);
      opts.setAllowBlockingFlush(true);
      storage.db().ingestExternalFile(storage.handle(Cf.DATA), List.of(sst.toString()), opts);
    } catch (RocksDBException e) {
      throw new StorageException("region " + region.getId() + ": ingesting snapshot SST failed: " + e.getMessage(), e);
    } finally {
      deleteQuietly(sst);
    }
  }

  private Path snapFile(long regionId, long index) {
    return snapDir.resolve("region-" + regionId + "-" + index + ".snap");
  }

  private static void writeDurably(Path file, byte[] bytes) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file + " failed", e);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", p, e.toString());
    }
  }
}
