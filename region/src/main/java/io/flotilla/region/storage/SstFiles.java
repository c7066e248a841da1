package io.flotilla.region.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDBException;
import org.rocksdb.SstFileWriter;

/**
 * The RocksDB-specific half of region snapshots: a range written to an SST file with
 * {@link SstFileWriter}, and an SST file ingested into a family. The region layer decides what goes
 * in and when ({@code region.snapshot}); the file format is RocksDB's, so it lives here.
 *
 * <p>Stateless; any thread.
 */
public final class SstFiles {
  private SstFiles() {}

  /**
   * Writes the pairs of {@code [lower, upper)} in {@code cf} as {@code snapshot} sees them to
   * {@code file}; returns its size, or 0 (and no file) when the range is empty. Stops with an
   * {@link IllegalStateException} once {@code cancelled} (checked every 4096 keys). Blocking.
   */
  public static long write(KvSnapshot snapshot, Cf cf, byte[] lower, byte[] upper, Path file,
      BooleanSupplier cancelled) {
    try (EnvOptions env = new EnvOptions();
        Options opts = new Options();
        SstFileWriter writer = new SstFileWriter(env, opts)) {
      long[] keys = {0};
      snapshot.scan(cf, lower, upper, at -> {
        try {
          if (keys[0] == 0) {
            writer.open(file.toString());
          }
          writer.put(at.key(), at.value());
        } catch (RocksDBException e) {
          throw new StorageException("writing SST file " + file + " failed: " + e.getMessage(), e);
        }
        keys[0]++;
        if ((keys[0] & 0xfff) == 0 && cancelled.getAsBoolean()) {
          throw new IllegalStateException("writing SST file " + file + " cancelled");
        }
        return true;
      });
      if (keys[0] == 0) {
        return 0;
      }
      writer.finish();
      return Files.size(file);
    } catch (RocksDBException e) {
      throw new StorageException("finishing SST file " + file + " failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("sizing SST file " + file + " failed", e);
    }
  }

  /**
   * Ingests {@code file} into {@code cf}, copying it (the file stays, e.g. for a roll-forward after
   * a crash); its keys replace what {@code cf} holds at them.
   */
  public static void ingest(NodeStorage storage, Cf cf, Path file) {
    ingest(storage, cf, file, false);
  }

  /** {@link #ingest}; with {@code move}, RocksDB takes the file itself (hard-linked) instead of a copy. */
  public static void ingest(NodeStorage storage, Cf cf, Path file, boolean move) {
    try (IngestExternalFileOptions opts = new IngestExternalFileOptions()) {
      opts.setMoveFiles(move);
      opts.setAllowGlobalSeqNo(true);
      opts.setAllowBlockingFlush(true);
      storage.db().ingestExternalFile(storage.handle(cf), List.of(file.toString()), opts);
    } catch (RocksDBException e) {
      throw new StorageException("ingesting SST file " + file + " into " + cf.familyName() + " failed: "
          + e.getMessage(), e);
    }
  }
}
