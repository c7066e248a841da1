package io.flotilla.region.storage;

import static io.flotilla.region.storage.Fixtures.entries;
import static io.flotilla.region.storage.Fixtures.keysOfGroup;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryTest {
  @TempDir Path dir;
  private NodeStorage node;

  @AfterEach
  void close() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void reopeningRestoresEveryGroup() {
    node = NodeStorage.open(Fixtures.config(dir));
    ConfState voters = ConfState.ofVoters(1L, 2L, 3L);
    ConfState changed = ConfState.ofVoters(1L, 2L, 3L, 4L);
    ConfState snapConf = ConfState.ofVoters(5L, 6L, 7L);
    try (StorageBatch batch = node.newBatch()) {
      batch.createGroup(1, voters);
      batch.createGroup(2, voters);
      batch.createGroup(3, ConfState.EMPTY);
      batch.createGroup(4, voters);
      node.write(batch);
    }
    try (StorageBatch batch = node.newBatch()) {
      batch.append(1, entries(1, 20, 2));
      batch.setHardState(1, new HardState(2, 1, 18));
      batch.setApplied(1, 15);
      batch.setConfState(1, changed, 12);
      batch.append(2, entries(1, 10, 1));
      batch.applySnapshot(3, new SnapshotMetadata(snapConf, 50, 4));
      batch.append(3, entries(51, 55, 4));
      batch.setHardState(3, new HardState(4, 0, 55));
      node.write(batch);
    }
    try (StorageBatch batch = node.newBatch()) {
      batch.createSnapshot(2, 8, voters);
      batch.compact(2, 8);
      batch.append(2, entries(9, 12, 3)); // conflicting suffix: 11..12 new, 9..10 replaced
      node.write(batch);
    }
    List<Entry> log1 = node.group(1).entries(1, 21, Long.MAX_VALUE);
    List<Entry> log2 = node.group(2).entries(9, 13, Long.MAX_VALUE);

    node.close();
    node = NodeStorage.open(Fixtures.config(dir));

    assertThat(node.groupIds()).containsExactly(1L, 2L, 3L, 4L);
    RocksRaftStorage g1 = node.group(1);
    assertThat(g1.initialState().hardState()).isEqualTo(new HardState(2, 1, 18));
    assertThat(g1.initialState().confState()).isEqualTo(changed);
    assertThat(g1.appliedIndex()).isEqualTo(15);
    assertThat(g1.firstIndex()).isEqualTo(1);
    assertThat(g1.lastIndex()).isEqualTo(20);
    assertThat(g1.entries(1, 21, Long.MAX_VALUE)).isEqualTo(log1);

    RocksRaftStorage g2 = node.group(2);
    assertThat(g2.firstIndex()).isEqualTo(9);
    assertThat(g2.lastIndex()).isEqualTo(12);
    assertThat(g2.term(8)).isEqualTo(1);
    assertThat(g2.applyState()).isEqualTo(new ApplyState(0, 8, 1));
    assertThat(g2.snapshot().metadata()).isEqualTo(new SnapshotMetadata(voters, 8, 1));
    assertThat(g2.entries(9, 13, Long.MAX_VALUE)).isEqualTo(log2);

    RocksRaftStorage g3 = node.group(3);
    assertThat(g3.firstIndex()).isEqualTo(51);
    assertThat(g3.lastIndex()).isEqualTo(55);
    assertThat(g3.term(50)).isEqualTo(4);
    assertThat(g3.initialState().confState()).isEqualTo(snapConf);
    assertThat(g3.hardState()).isEqualTo(new HardState(4, 0, 55));

    RocksRaftStorage g4 = node.group(4);
    assertThat(g4.lastIndex()).isZero();
    assertThat(g4.initialState().confState()).isEqualTo(voters);
  }

  @Test
  void aDestroyedGroupLeavesNoKeysAndCanBeCreatedAgain() {
    node = NodeStorage.open(Fixtures.config(dir));
    node.createGroup(5, ConfState.ofVoters(1L));
    node.createGroup(6, ConfState.ofVoters(1L));
    for (long g : new long[] {5, 6}) {
      try (StorageBatch batch = node.newBatch()) {
        batch.append(g, entries(1, 30, 1));
        batch.setHardState(g, new HardState(1, 1, 30));
        batch.setApplied(g, 30);
        batch.put(Cf.META, Keys.regionMeta(g, 0x10), new byte[] {42});
        node.write(batch);
      }
    }
    node.compact(5, 10);
    RocksRaftStorage old = node.group(5);

    node.destroyGroup(5);

    assertThat(keysOfGroup(node, Cf.RAFT, 5)).isEmpty();
    assertThat(keysOfGroup(node, Cf.META, 5)).isEmpty();
    assertThat(node.hasGroup(5)).isFalse();
    assertThat(node.groupIds()).containsExactly(6L);
    assertThatThrownBy(old::lastIndex).isInstanceOf(IllegalStateException.class);
    assertThat(keysOfGroup(node, Cf.RAFT, 6)).hasSize(32); // 30 entries, hard and apply state
    assertThat(keysOfGroup(node, Cf.META, 6)).hasSize(2);

    node.close();
    node = NodeStorage.open(Fixtures.config(dir));
    assertThat(node.groupIds()).containsExactly(6L);
    RocksRaftStorage again = node.createGroup(5, ConfState.ofVoters(2L));
    assertThat(again.lastIndex()).isZero();
    assertThat(again.hardState()).isEqualTo(HardState.EMPTY);
    assertThat(again.initialState().confState()).isEqualTo(ConfState.ofVoters(2L));
  }

  @Test
  void groupCreatedAndDestroyedInOneBatchLeavesNothing() {
    node = NodeStorage.open(Fixtures.config(dir));
    try (StorageBatch batch = node.newBatch()) {
      batch.createGroup(9, ConfState.ofVoters(1L));
      batch.append(9, entries(1, 3, 1));
      batch.destroyGroup(9);
      assertThatThrownBy(() -> batch.append(9, entries(4, 4, 1)))
          .isInstanceOf(IllegalStateException.class);
      node.write(batch);
    }
    assertThat(node.groupIds()).isEmpty();
    assertThat(keysOfGroup(node, Cf.RAFT, 9)).isEmpty();
    assertThat(keysOfGroup(node, Cf.META, 9)).isEmpty();
  }

  @Test
  void creatingAnExistingGroupIsRefused() {
    node = NodeStorage.open(Fixtures.config(dir));
    node.createGroup(1, ConfState.EMPTY);
    assertThatThrownBy(() -> node.createGroup(1, ConfState.EMPTY))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already exists");
    assertThatThrownBy(() -> node.createGroup(0, ConfState.EMPTY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("groupId");
    assertThatThrownBy(() -> node.group(2)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aSecondOpenOfTheSameDirectoryFails() {
    node = NodeStorage.open(Fixtures.config(dir));
    assertThatThrownBy(() -> NodeStorage.open(Fixtures.config(dir)))
        .isInstanceOf(StorageException.class).hasMessageContaining("lock");
  }

  @Test
  void aClosedStorageRefusesCalls() {
    node = NodeStorage.open(Fixtures.config(dir));
    RocksRaftStorage g = node.createGroup(1, ConfState.EMPTY);
    node.close();
    assertThatThrownBy(g::lastIndex).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(node::newBatch).isInstanceOf(IllegalStateException.class);
    node = null;
  }
}
