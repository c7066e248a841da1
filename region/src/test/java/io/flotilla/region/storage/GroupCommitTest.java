package io.flotilla.region.storage;

import static io.flotilla.region.storage.Fixtures.entries;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.HardState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

class GroupCommitTest {
  private static final int GROUPS = 100;

  @TempDir Path dir;
  private NodeStorage node;

  @BeforeEach
  void open() {
    node = NodeStorage.open(Fixtures.config(dir));
    try (StorageBatch batch = node.newBatch()) {
      for (long g = 1; g <= GROUPS; g++) {
        batch.createGroup(g, ConfState.ofVoters(1L, 2L, 3L));
      }
      node.write(batch);
    }
  }

  @AfterEach
  void close() {
    node.close();
  }

  @Test
  void hundredGroupsAreMadeDurableByOneSyncedWrite() throws RocksDBException {
    StorageCounters c = node.counters();
    long batches = c.batchesWritten();
    long fsyncs = c.fsyncs();
    long entries = c.entriesWritten();
    long walSyncs = walSyncs();

    try (StorageBatch batch = node.newBatch()) {
      for (long g = 1; g <= GROUPS; g++) {
        batch.append(g, entries(1, 5, 1));
        batch.setHardState(g, new HardState(1, 1, 3));
      }
      assertThat(batch.groupCount()).isEqualTo(GROUPS);
      assertThat(node.group(1).lastIndex()).isZero();
      node.write(batch);
    }

    assertThat(c.batchesWritten() - batches).isEqualTo(1);
    assertThat(c.fsyncs() - fsyncs).isEqualTo(1);
    assertThat(c.entriesWritten() - entries).isEqualTo(5L * GROUPS);
    assertThat(walSyncs() - walSyncs).as("WAL syncs counted by RocksDB").isEqualTo(1);
    for (long g = 1; g <= GROUPS; g++) {
      assertThat(node.group(g).lastIndex()).isEqualTo(5);
      assertThat(node.group(g).hardState()).isEqualTo(new HardState(1, 1, 3));
    }
  }

  @Test
  void applyStateIsWrittenWithTheDataItCovers() {
    try (StorageBatch batch = node.newBatch()) {
      batch.append(1, entries(1, 3, 1));
      node.write(batch);
    }
    try (StorageBatch batch = node.newBatch()) {
      batch.put(Cf.DATA, bytes("k1"), bytes("v1"));
      batch.put(Cf.DATA, bytes("k2"), bytes("v2"));
      batch.setApplied(1, 3);
      node.write(batch);
    }
    node.close();
    node = NodeStorage.open(Fixtures.config(dir));

    assertThat(node.group(1).appliedIndex()).isEqualTo(3);
    assertThat(get(Cf.DATA, "k1")).isEqualTo(bytes("v1"));
    assertThat(get(Cf.DATA, "k2")).isEqualTo(bytes("v2"));
  }

  @Test
  void anEmptyBatchIsNotWritten() {
    long batches = node.counters().batchesWritten();
    try (StorageBatch batch = node.newBatch()) {
      node.write(batch);
    }
    assertThat(node.counters().batchesWritten()).isEqualTo(batches);
  }

  @Test
  void withoutFsyncBatchesAreWrittenButNotSynced() {
    node.close();
    node = NodeStorage.open(Fixtures.config(dir).withFsync(false));
    long fsyncs = node.counters().fsyncs();
    Fixtures.append(node, 1, entries(1, 2, 1));
    assertThat(node.counters().fsyncs()).isEqualTo(fsyncs);
    assertThat(node.counters().batchesWritten()).isEqualTo(1);
  }

  @Test
  void threadsOwningDifferentGroupsWriteTheirBatchesConcurrently() throws Exception {
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int owner = t;
        done.add(pool.submit(() -> {
          for (long round = 1; round <= 40; round++) {
            try (StorageBatch batch = node.newBatch()) {
              for (long g = 1 + owner; g <= GROUPS; g += threads) {
                batch.append(g, entries(round, round, 1));
              }
              node.write(batch);
            }
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    node.close();
    node = NodeStorage.open(Fixtures.config(dir));
    for (long g = 1; g <= GROUPS; g++) {
      assertThat(node.group(g).lastIndex()).isEqualTo(40);
      assertThat(node.group(g).entries(1, 41, Long.MAX_VALUE)).isEqualTo(entries(1, 40, 1));
    }
  }

  /** RocksDB's own count of WAL syncs, from the {@code rocksdb.stats} property. */
  private long walSyncs() throws RocksDBException {
    String stats = node.db().getProperty("rocksdb.stats");
    Matcher m = Pattern.compile("Cumulative WAL: \\S+ writes, (\\d+) syncs").matcher(stats);
    assertThat(m.find()).as("WAL line in rocksdb.stats:%n%s", stats).isTrue();
    return Long.parseLong(m.group(1));
  }

  private byte[] get(Cf cf, String key) {
    try {
      return node.db().get(node.handle(cf), bytes(key));
    } catch (RocksDBException e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
