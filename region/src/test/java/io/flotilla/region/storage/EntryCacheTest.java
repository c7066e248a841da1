package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EntryCacheTest {
  private static final int ENTRY_BYTES = 100;

  @TempDir Path dir;
  private NodeStorage node;

  @AfterEach
  void close() {
    node.close();
  }

  private void open(long perGroup, long total) {
    node = NodeStorage.open(Fixtures.config(dir).withEntryCache(perGroup, total));
  }

  private static List<Entry> sized(long from, long to) {
    List<Entry> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(Fixtures.sized(i, 1, ENTRY_BYTES));
    }
    return out;
  }

  @Test
  void recentEntriesAreServedFromMemoryAndOlderOnesFromDisk() {
    open(10 * ENTRY_BYTES, 1 << 20);
    RocksRaftStorage g = node.createGroup(1, ConfState.EMPTY);
    Fixtures.append(node, 1, sized(1, 30));
    StorageCounters c = node.counters();

    assertThat(g.cachedEntries()).isEqualTo(10);
    assertThat(g.cachedBytes()).isEqualTo(10L * ENTRY_BYTES);

    long hits = c.cacheHits();
    long misses = c.cacheMisses();
    assertThat(g.entries(21, 31, Long.MAX_VALUE)).isEqualTo(sized(21, 30));
    assertThat(g.term(25)).isEqualTo(1);
    assertThat(c.cacheHits() - hits).as("entries read from the cache (term lookups are not counted)").isEqualTo(10);
    assertThat(c.cacheMisses() - misses).isZero();

    hits = c.cacheHits();
    assertThat(g.entries(15, 25, Long.MAX_VALUE)).isEqualTo(sized(15, 24));
    assertThat(c.cacheMisses() - misses).isEqualTo(6); // 15..20 from RocksDB
    assertThat(c.cacheHits() - hits).isEqualTo(4); // 21..24 from the cache
  }

  @Test
  void sizeLimitStopsTheReadBeforeTheCache() {
    open(10 * ENTRY_BYTES, 1 << 20);
    RocksRaftStorage g = node.createGroup(1, ConfState.EMPTY);
    Fixtures.append(node, 1, sized(1, 30));
    long hits = node.counters().cacheHits();

    assertThat(g.entries(18, 31, 3 * ENTRY_BYTES)).isEqualTo(sized(18, 20));
    assertThat(node.counters().cacheHits()).isEqualTo(hits);
  }

  @Test
  void aReopenedStorageReadsFromDiskUntilNewEntriesArrive() {
    open(1 << 20, 1 << 20);
    node.createGroup(1, ConfState.EMPTY);
    Fixtures.append(node, 1, sized(1, 5));
    node.close();
    open(1 << 20, 1 << 20);
    RocksRaftStorage g = node.group(1);

    assertThat(g.cachedEntries()).isZero();
    assertThat(g.entries(1, 6, Long.MAX_VALUE)).isEqualTo(sized(1, 5));
    assertThat(node.counters().cacheMisses()).isEqualTo(5);

    Fixtures.append(node, 1, sized(6, 7));
    assertThat(g.cachedEntries()).isEqualTo(2);
  }

  @Test
  void conflictsCompactionAndSnapshotsKeepTheCacheConsistent() {
    open(1 << 20, 1 << 20);
    RocksRaftStorage g = node.createGroup(1, ConfState.EMPTY);
    Fixtures.append(node, 1, Fixtures.entries(1, 10, 1));

    Fixtures.append(node, 1, Fixtures.entries(6, 7, 2));
    assertThat(g.cachedEntries()).isEqualTo(7);
    assertThat(g.entries(1, 8, Long.MAX_VALUE)).extracting(Entry::term)
        .containsExactly(1L, 1L, 1L, 1L, 1L, 2L, 2L);

    node.compact(1, 4);
    assertThat(g.cachedEntries()).isEqualTo(3);

    g.evictCache(5);
    assertThat(g.cachedEntries()).isEqualTo(2);
    assertThat(g.entries(5, 8, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(5L, 6L, 7L);

    try (StorageBatch batch = node.newBatch()) {
      batch.applySnapshot(1, new io.flotilla.engine.raft.SnapshotMetadata(ConfState.EMPTY, 20, 3));
      node.write(batch);
    }
    assertThat(g.cachedEntries()).isZero();
    assertThat(node.entryCacheBytes()).isZero();
  }

  @Test
  void theNodeBudgetMakesAnAppendingGroupEvictItsOwnEntries() {
    open(20 * ENTRY_BYTES, 25 * ENTRY_BYTES);
    RocksRaftStorage a = node.createGroup(1, ConfState.EMPTY);
    RocksRaftStorage b = node.createGroup(2, ConfState.EMPTY);
    Fixtures.append(node, 1, sized(1, 20));
    Fixtures.append(node, 2, sized(1, 20));

    assertThat(a.cachedEntries()).isEqualTo(20);
    assertThat(b.cachedEntries()).isEqualTo(5);
    assertThat(node.entryCacheBytes()).isEqualTo(25L * ENTRY_BYTES);
    assertThat(b.entries(1, 21, Long.MAX_VALUE)).isEqualTo(sized(1, 20));
  }

  @Test
  void aZeroBudgetDisablesTheCache() {
    open(0, 0);
    RocksRaftStorage g = node.createGroup(1, ConfState.EMPTY);
    Fixtures.append(node, 1, sized(1, 3));
    assertThat(g.cachedEntries()).isZero();
    assertThat(g.entries(1, 4, Long.MAX_VALUE)).isEqualTo(sized(1, 3));
  }
}
