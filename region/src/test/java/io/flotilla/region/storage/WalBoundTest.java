package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL stays near {@link StorageConfig#maxTotalWalBytes} however long a store writes, even when a
 * column family is written once and never again (the shape that pinned 2.8 GB of WAL per store in a
 * YCSB run): a store's life of log appends, compactions and data writes, at small sizes.
 */
class WalBoundTest {
  private static final long MIB = 1L << 20;
  private static final long WAL_CAP = 4 * MIB;
  /** The cap plus a memtable of the busiest family being flushed and the WAL file being written. */
  private static final long WAL_BOUND = 3 * WAL_CAP;

  @TempDir Path dir;

  private StorageConfig config() {
    return StorageConfig.defaults(dir).withFsync(false).withBlockCacheBytes(8 * MIB)
        .withWriteBuffers(MIB, 2).withMaxTotalWalBytes(WAL_CAP);
  }

  @Test
  void aRarelyWrittenFamilyDoesNotPinTheWal() {
    long written = 0;
    long maxWal = 0;
    long lastIndex = 0;
    try (NodeStorage node = NodeStorage.open(config())) {
      try (StorageBatch b = node.newBatch()) {
        b.createGroup(1, ConfState.ofVoters(1L, 2L, 3L));
        b.put(Cf.DEFAULT, bytes("node-record"), bytes("written once"));
        b.put(Cf.META, Keys.regionMeta(1, Keys.FIRST_REGION_META_TAG), bytes("region record"));
        node.write(b);
      }
      byte[] value = new byte[1000];
      for (int round = 0; round < 2_000; round++) {
        try (StorageBatch b = node.newBatch()) {
          List<Entry> entries = new ArrayList<>();
          for (int i = 0; i < 64; i++) {
            entries.add(Entry.normal(1, ++lastIndex, value));
            b.put(Cf.DATA, ByteBuffer.allocate(8).putLong(lastIndex % 50_000).array(), value);
          }
          b.append(1, entries);
          node.write(b);
          written += 2L * 64 * value.length;
        }
        if (round % 50 == 49) {
          node.compact(1, lastIndex - 64);
        }
        maxWal = Math.max(maxWal, node.walBytes());
      }
      assertThat(written).as("bytes written").isGreaterThan(60 * WAL_CAP);
      assertThat(maxWal).as("largest WAL seen while writing %d bytes", written).isLessThanOrEqualTo(WAL_BOUND);
    }
    try (NodeStorage reopened = NodeStorage.open(config())) {
      assertThat(reopened.group(1).lastIndex()).isEqualTo(lastIndex);
      assertThat(reopened.walBytes()).isLessThanOrEqualTo(WAL_BOUND);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
