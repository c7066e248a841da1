package io.flotilla.region.storage;

import static io.flotilla.region.storage.Fixtures.append;
import static io.flotilla.region.storage.Fixtures.entries;
import static io.flotilla.region.storage.Fixtures.logIndexesOnDisk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.CompactedException;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.UnavailableException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksRaftStorageTest {
  private static final long G = 7;

  @TempDir Path dir;
  private NodeStorage node;
  private RocksRaftStorage storage;

  @BeforeEach
  void open() {
    node = NodeStorage.open(Fixtures.config(dir));
    storage = node.createGroup(G, ConfState.ofVoters(1L, 2L, 3L));
  }

  @AfterEach
  void close() {
    node.close();
  }

  @Test
  void newGroupHasAnEmptyLogAtIndexZero() {
    assertThat(storage.firstIndex()).isEqualTo(1);
    assertThat(storage.lastIndex()).isZero();
    assertThat(storage.term(0)).isZero();
    assertThat(storage.initialState().hardState()).isEqualTo(HardState.EMPTY);
    assertThat(storage.initialState().confState()).isEqualTo(ConfState.ofVoters(1L, 2L, 3L));
    assertThatThrownBy(() -> storage.entries(1, 1, Long.MAX_VALUE))
        .isInstanceOf(UnavailableException.class);
  }

  @Test
  void appendedEntriesAreReadBackWithTheirTermsAndTypes() {
    List<Entry> written = entries(1, 10, 2);
    append(node, G, written);

    assertThat(storage.firstIndex()).isEqualTo(1);
    assertThat(storage.lastIndex()).isEqualTo(10);
    assertThat(storage.entries(1, 11, Long.MAX_VALUE)).isEqualTo(written);
    assertThat(storage.entries(4, 6, Long.MAX_VALUE)).isEqualTo(written.subList(3, 5));
    assertThat(storage.entries(5, 5, Long.MAX_VALUE)).isEmpty();
    assertThat(storage.term(10)).isEqualTo(2);
    assertThat(logIndexesOnDisk(node, G)).containsExactly(LongStream.rangeClosed(1, 10).boxed()
        .toArray(Long[]::new));
  }

  @Test
  void entriesAreLimitedBySizeButAtLeastOneIsReturned() {
    append(node, G, List.of(Fixtures.sized(1, 1, 100), Fixtures.sized(2, 1, 100),
        Fixtures.sized(3, 1, 100)));

    assertThat(storage.entries(1, 4, 0)).hasSize(1);
    assertThat(storage.entries(1, 4, 199)).hasSize(1);
    assertThat(storage.entries(1, 4, 200)).hasSize(2);
    assertThat(storage.entries(1, 4, 300)).hasSize(3);
  }

  @Test
  void conflictingSuffixIsReplacedAndItsStaleTailDeletedFromDisk() {
    append(node, G, entries(1, 10, 1));

    append(node, G, entries(5, 7, 2));

    assertThat(storage.lastIndex()).isEqualTo(7);
    assertThat(storage.term(4)).isEqualTo(1);
    assertThat(storage.term(5)).isEqualTo(2);
    assertThat(storage.entries(1, 8, Long.MAX_VALUE).subList(4, 7)).isEqualTo(entries(5, 7, 2));
    assertThat(logIndexesOnDisk(node, G)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
    assertThatThrownBy(() -> storage.term(8)).isInstanceOf(UnavailableException.class);
  }

  @Test
  void conflictWithinOneBatchDeletesEntriesPutEarlierInIt() {
    try (StorageBatch batch = node.newBatch()) {
      batch.append(G, entries(1, 10, 1));
      batch.append(G, entries(3, 4, 2));
      node.write(batch);
    }

    assertThat(storage.lastIndex()).isEqualTo(4);
    assertThat(logIndexesOnDisk(node, G)).containsExactly(1L, 2L, 3L, 4L);
    assertThat(storage.entries(1, 5, Long.MAX_VALUE))
        .extracting(Entry::term).containsExactly(1L, 1L, 2L, 2L);
  }

  @Test
  void appendLeavingAGapIsRefusedAndChangesNothing() {
    append(node, G, entries(1, 3, 1));
    try (StorageBatch batch = node.newBatch()) {
      assertThatThrownBy(() -> batch.append(G, entries(5, 6, 1)))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("missing log entry");
      batch.append(G, entries(4, 4, 1)); // the batch is still usable
      node.write(batch);
    }
    assertThat(storage.lastIndex()).isEqualTo(4);
  }

  @Test
  void compactionRemovesEntriesWithARangeDeleteAndKeepsTheTruncatedTerm() {
    append(node, G, entries(1, 10, 3));

    node.compact(G, 6);

    assertThat(storage.firstIndex()).isEqualTo(7);
    assertThat(storage.lastIndex()).isEqualTo(10);
    assertThat(storage.term(6)).isEqualTo(3);
    assertThat(storage.applyState()).isEqualTo(new ApplyState(0, 6, 3));
    assertThat(logIndexesOnDisk(node, G)).containsExactly(7L, 8L, 9L, 10L);
    assertThatThrownBy(() -> storage.term(5)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> storage.entries(6, 8, Long.MAX_VALUE))
        .isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> node.compact(G, 6)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> node.compact(G, 11)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void compactingTheWholeLogLeavesTermOfLastIndex() {
    append(node, G, entries(1, 5, 4));

    node.compact(G, 5);

    assertThat(storage.firstIndex()).isEqualTo(6);
    assertThat(storage.lastIndex()).isEqualTo(5);
    assertThat(storage.term(5)).isEqualTo(4);
    assertThat(logIndexesOnDisk(node, G)).isEmpty();
    assertThatThrownBy(() -> storage.entries(6, 6, 100)).isInstanceOf(UnavailableException.class);
  }

  @Test
  void applyingASnapshotDropsTheWholeLog() {
    append(node, G, entries(1, 10, 1));
    ConfState cs = ConfState.ofVoters(1L, 4L, 5L);

    try (StorageBatch batch = node.newBatch()) {
      batch.applySnapshot(G, new SnapshotMetadata(cs, 20, 3));
      batch.append(G, entries(21, 22, 3));
      node.write(batch);
    }

    assertThat(storage.firstIndex()).isEqualTo(21);
    assertThat(storage.lastIndex()).isEqualTo(22);
    assertThat(storage.term(20)).isEqualTo(3);
    assertThat(storage.initialState().confState()).isEqualTo(cs);
    assertThat(storage.snapshot().metadata()).isEqualTo(new SnapshotMetadata(cs, 20, 3));
    assertThat(storage.snapshot().data()).isEmpty();
    assertThat(logIndexesOnDisk(node, G)).containsExactly(21L, 22L);
  }

  @Test
  void applyingAnOlderSnapshotIsRefused() {
    try (StorageBatch batch = node.newBatch()) {
      batch.applySnapshot(G, new SnapshotMetadata(ConfState.ofVoters(1L), 20, 3));
      assertThatThrownBy(
          () -> batch.applySnapshot(G, new SnapshotMetadata(ConfState.ofVoters(1L), 20, 3)))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("out of date");
    }
  }

  @Test
  void createdSnapshotTakesItsTermFromTheLogAndDataFromTheProvider() {
    node.close();
    byte[] data = {1, 2, 3};
    node = NodeStorage.open(Fixtures.config(dir), (groupId, latest) -> new Snapshot(data, latest));
    storage = node.group(G);
    append(node, G, entries(1, 10, 2));
    ConfState cs = ConfState.ofVoters(1L, 2L);

    try (StorageBatch batch = node.newBatch()) {
      assertThat(batch.createSnapshot(G, 8, cs)).isEqualTo(new SnapshotMetadata(cs, 8, 2));
      batch.compact(G, 8);
      node.write(batch);
    }

    assertThat(storage.snapshot().metadata()).isEqualTo(new SnapshotMetadata(cs, 8, 2));
    assertThat(storage.snapshot().data()).containsExactly(1, 2, 3);
    assertThat(storage.firstIndex()).isEqualTo(9);
  }

  @Test
  void snapshotProviderMaySayTheSnapshotIsNotReady() {
    node.close();
    node = NodeStorage.open(Fixtures.config(dir), (groupId, latest) -> {
      throw new UnavailableException("snapshot of group " + groupId + " is being built");
    });
    assertThatThrownBy(() -> node.group(G).snapshot()).isInstanceOf(UnavailableException.class);
  }

  @Test
  void hardStateAndConfStateAreRecorded() {
    HardState hs = new HardState(5, 2, 9);
    ConfState joint = new ConfState(List.of(1L, 2L, 4L), List.of(5L), List.of(1L, 2L, 3L),
        List.of(3L), true);
    append(node, G, entries(1, 10, 5));
    try (StorageBatch batch = node.newBatch()) {
      batch.setHardState(G, hs);
      batch.setConfState(G, joint, 9);
      node.write(batch);
    }
    assertThat(storage.initialState()).isEqualTo(
        new io.flotilla.engine.raft.Storage.InitialState(hs, joint));
    assertThat(storage.localState().confIndex()).isEqualTo(9);
  }

  @Test
  void viewsDoNotChangeUntilTheBatchIsWritten() {
    try (StorageBatch batch = node.newBatch()) {
      batch.append(G, entries(1, 3, 1));
      batch.setHardState(G, new HardState(1, 1, 1));
      assertThat(storage.lastIndex()).isZero();
      assertThat(storage.hardState()).isEqualTo(HardState.EMPTY);
      node.write(batch);
    }
    assertThat(storage.lastIndex()).isEqualTo(3);
    assertThat(storage.hardState()).isEqualTo(new HardState(1, 1, 1));
  }

  @Test
  void aWrittenBatchCannotBeReused() {
    try (StorageBatch batch = node.newBatch()) {
      batch.append(G, entries(1, 1, 1));
      node.write(batch);
      assertThatThrownBy(() -> batch.append(G, entries(2, 2, 1)))
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> node.write(batch)).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void aGroupIsInOneUnwrittenBatchAtATime() {
    try (StorageBatch first = node.newBatch(); StorageBatch second = node.newBatch()) {
      first.append(G, entries(1, 2, 1));
      assertThatThrownBy(() -> second.append(G, entries(1, 2, 1)))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("another unwritten batch");
      first.createGroup(8, ConfState.EMPTY);
      assertThatThrownBy(() -> second.createGroup(8, ConfState.EMPTY))
          .isInstanceOf(IllegalStateException.class);
      node.write(first);
      second.append(G, entries(3, 3, 1));
      node.write(second);
    }
    try (StorageBatch abandoned = node.newBatch()) {
      abandoned.append(G, entries(4, 4, 1));
    }
    Fixtures.append(node, G, entries(4, 4, 1));
    assertThat(storage.lastIndex()).isEqualTo(4);
    assertThat(node.groupIds()).containsExactly(G, 8L);
  }

  @Test
  void rawWritesToStorageKeysAreRefused() {
    try (StorageBatch batch = node.newBatch()) {
      assertThatThrownBy(() -> batch.put(Cf.RAFT, Keys.hardState(G), new byte[1]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> batch.put(Cf.META, Keys.localState(G), new byte[1]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> batch.delete(Cf.DEFAULT, Keys.FORMAT_VERSION))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> batch.deleteRange(Cf.META, Keys.regionMeta(G, 0x10),
          Keys.groupEnd(G + 1))).isInstanceOf(IllegalArgumentException.class);
      batch.put(Cf.META, Keys.regionMeta(G, 0x10), new byte[] {1});
      batch.deleteRange(Cf.META, Keys.regionMeta(G, 0x11), Keys.groupEnd(G));
      batch.put(Cf.DATA, new byte[] {'k'}, new byte[] {'v'});
      node.write(batch);
    }
  }
}
