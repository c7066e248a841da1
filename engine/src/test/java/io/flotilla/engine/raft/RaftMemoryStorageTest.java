package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.bytes;
import static io.flotilla.engine.raft.RaftFixtures.entries;
import static io.flotilla.engine.raft.RaftFixtures.terms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link MemoryStorage}, the in-memory {@link Storage} (etcd storage_test.go). */
class RaftMemoryStorageTest {

  /** Compacted at 3/3, holding 4/4 and 5/5 (etcd's fixture). */
  private static MemoryStorage storage345() {
    MemoryStorage s = new MemoryStorage();
    s.applySnapshot(new Snapshot(null, new SnapshotMetadata(ConfState.ofVoters(1L), 3, 3)));
    s.append(List.of(Entry.empty(4, 4), Entry.empty(5, 5)));
    return s;
  }

  @Test
  void termIsKnownFromTheSnapshotIndexToTheLastIndex() {
    MemoryStorage s = storage345();

    assertThatThrownBy(() -> s.term(2)).isInstanceOf(CompactedException.class);
    assertThat(s.term(3)).isEqualTo(3);
    assertThat(s.term(4)).isEqualTo(4);
    assertThat(s.term(5)).isEqualTo(5);
    assertThatThrownBy(() -> s.term(6)).isInstanceOf(UnavailableException.class);
  }

  @Test
  void entriesAreServedWithinBoundsAndSizeWithAtLeastOne() {
    MemoryStorage s = storage345();
    s.append(List.of(Entry.normal(5, 6, bytes("xxxx"))));

    assertThatThrownBy(() -> s.entries(2, 6, Long.MAX_VALUE)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> s.entries(3, 4, Long.MAX_VALUE)).isInstanceOf(CompactedException.class);
    assertThat(s.entries(4, 5, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(4L);
    assertThat(s.entries(4, 7, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(4L, 5L, 6L);
    assertThat(s.entries(4, 7, 0)).as("at least one").extracting(Entry::index).containsExactly(4L);
    assertThat(s.entries(4, 7, 48)).extracting(Entry::index).containsExactly(4L, 5L);
    assertThat(s.entries(4, 7, 75)).extracting(Entry::index).containsExactly(4L, 5L);
    assertThat(s.entries(4, 7, 76)).extracting(Entry::index).containsExactly(4L, 5L, 6L);
    assertThatThrownBy(() -> s.entries(4, 8, Long.MAX_VALUE)).isInstanceOf(UnavailableException.class);
    assertThatThrownBy(() -> new MemoryStorage().entries(1, 1, Long.MAX_VALUE))
        .as("an empty log").isInstanceOf(UnavailableException.class);
  }

  @Test
  void firstAndLastIndexFollowAppendAndCompact() {
    MemoryStorage s = storage345();
    assertThat(s.firstIndex()).isEqualTo(4);
    assertThat(s.lastIndex()).isEqualTo(5);

    s.append(List.of(Entry.empty(5, 6)));
    assertThat(s.lastIndex()).isEqualTo(6);
    s.compact(4);
    assertThat(s.firstIndex()).isEqualTo(5);
    assertThat(s.lastIndex()).isEqualTo(6);
  }

  @Test
  void compactKeepsTheCompactedEntryAsTheDummyAndRefusesBadIndexes() {
    MemoryStorage s = storage345();

    assertThatThrownBy(() -> s.compact(2)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> s.compact(3)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> s.compact(6)).isInstanceOf(IllegalStateException.class);

    s.compact(4);
    assertThat(s.term(4)).isEqualTo(4);
    assertThat(s.firstIndex()).isEqualTo(5);
    assertThat(terms(s)).containsExactly(5L);
    s.compact(5);
    assertThat(s.firstIndex()).isEqualTo(6);
    assertThat(s.lastIndex()).isEqualTo(5);
    assertThat(s.term(5)).isEqualTo(5);
  }

  @Test
  void createSnapshotRecordsIndexTermMembershipAndData() {
    MemoryStorage s = storage345();
    ConfState cs = ConfState.ofVoters(1L, 2L, 3L);

    Snapshot snap = s.createSnapshot(4, cs, bytes("data"));

    assertThat(snap.index()).isEqualTo(4);
    assertThat(snap.term()).isEqualTo(4);
    assertThat(snap.metadata().confState()).isEqualTo(cs);
    assertThat(snap.data()).isEqualTo(bytes("data"));
    assertThat(s.snapshot()).isEqualTo(snap);
    assertThat(s.firstIndex()).as("creating a snapshot does not compact").isEqualTo(4);
    assertThatThrownBy(() -> s.createSnapshot(4, cs, null)).as("not newer")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.createSnapshot(6, cs, null)).as("past the log")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void appendOverwritesConflictingSuffixAndSkipsCompactedEntries() {
    // Same entries: unchanged.
    MemoryStorage same = storage345();
    same.append(List.of(Entry.empty(3, 3), Entry.empty(4, 4), Entry.empty(5, 5)));
    assertThat(terms(same)).containsExactly(4L, 5L);

    // Conflicting suffix replaced.
    MemoryStorage conflict = storage345();
    conflict.append(List.of(Entry.empty(3, 3), Entry.empty(6, 4), Entry.empty(6, 5)));
    assertThat(terms(conflict)).containsExactly(6L, 6L);

    // Extended.
    MemoryStorage longer = storage345();
    longer.append(List.of(Entry.empty(3, 3), Entry.empty(4, 4), Entry.empty(5, 5), Entry.empty(5, 6)));
    assertThat(terms(longer)).containsExactly(4L, 5L, 5L);

    // Compacted head skipped, then truncate and append.
    MemoryStorage head = storage345();
    head.append(List.of(Entry.empty(3, 2), Entry.empty(3, 3), Entry.empty(5, 4)));
    assertThat(terms(head)).containsExactly(5L);
    assertThat(head.term(3)).as("the dummy is untouched").isEqualTo(3);

    // Truncate in the middle.
    MemoryStorage middle = storage345();
    middle.append(List.of(Entry.empty(5, 4)));
    assertThat(terms(middle)).containsExactly(5L);

    // Direct append.
    MemoryStorage direct = storage345();
    direct.append(List.of(Entry.empty(5, 6)));
    assertThat(terms(direct)).containsExactly(4L, 5L, 5L);

    // Entirely compacted: ignored.
    MemoryStorage old = storage345();
    old.append(entries(1, 1, 1));
    assertThat(terms(old)).containsExactly(4L, 5L);

    // A gap is refused.
    MemoryStorage gap = storage345();
    assertThatThrownBy(() -> gap.append(List.of(Entry.empty(5, 7))))
        .isInstanceOf(IllegalStateException.class);
    assertThat(terms(gap)).containsExactly(4L, 5L);
  }

  @Test
  void applySnapshotReplacesTheLogAndRefusesOlderSnapshots() {
    MemoryStorage s = new MemoryStorage();
    Snapshot s4 = new Snapshot(bytes("a"), new SnapshotMetadata(ConfState.ofVoters(1L, 2L), 4, 4));
    Snapshot s3 = new Snapshot(bytes("b"), new SnapshotMetadata(ConfState.ofVoters(1L, 2L), 3, 3));

    s.applySnapshot(s4);

    assertThat(s.snapshot()).isEqualTo(s4);
    assertThat(s.firstIndex()).isEqualTo(5);
    assertThat(s.lastIndex()).isEqualTo(4);
    assertThat(s.term(4)).isEqualTo(4);
    assertThat(s.initialState().confState().voters()).containsExactly(1L, 2L);
    assertThatThrownBy(() -> s.applySnapshot(s3)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.applySnapshot(s4)).isInstanceOf(IllegalStateException.class);
    assertThat(s.snapshot()).isEqualTo(s4);
  }

  @Test
  void hardStateIsStoredAndReportedAtStart() {
    MemoryStorage s = MemoryStorage.withVoters(1L, 2L, 3L);
    assertThat(s.initialState().hardState()).isEqualTo(HardState.EMPTY);
    assertThat(s.initialState().confState().voters()).containsExactly(1L, 2L, 3L);

    s.setHardState(new HardState(3, 2, 0));

    assertThat(s.initialState().hardState()).isEqualTo(new HardState(3, 2, 0));
  }
}
