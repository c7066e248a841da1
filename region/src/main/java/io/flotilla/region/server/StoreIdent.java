package io.flotilla.region.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The store id, persisted in {@code <dataDir>/store.id} (decimal text): written once, after PD
 * allocated it, through a synced temporary file renamed into place, so a crash leaves either no
 * id or the whole id. Kept outside RocksDB because the node's storage is opened with the id.
 */
final class StoreIdent {
  private StoreIdent() {}

  /** The persisted id, or 0 if this directory has none yet. */
  static long read(Path dataDir) {
    Path f = dataDir.resolve("store.id");
    if (!Files.exists(f)) {
      return 0;
    }
    try {
      String s = Files.readString(f, StandardCharsets.UTF_8).trim();
      long id = Long.parseLong(s);
      if (id <= 0) {
        throw new IllegalStateException(f + " holds store id " + id + "; it must be positive");
      }
      return id;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(f + " does not hold a store id; restore it or use a new data dir", e);
    }
  }

  static void write(Path dataDir, long id) {
    try {
      Files.createDirectories(dataDir);
      Path tmp = dataDir.resolve("store.id.tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(java.nio.ByteBuffer.wrap((id + "\n").getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      Files.move(tmp, dataDir.resolve("store.id"), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot persist store id " + id + " in " + dataDir, e);
    }
  }
}
