package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.entries;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Unstable}: the not-yet-persisted tail and its in-progress mark (etcd log_unstable_test.go). */
class RaftUnstableTest {

  private static Unstable unstable(long offset, long offsetInProgress, List<Entry> ents) {
    Unstable u = new Unstable(offset);
    u.entries = new ArrayList<>(ents);
    u.offsetInProgress = offsetInProgress;
    return u;
  }

  private static List<Long> terms(Unstable u) {
    return u.entries.stream().map(Entry::term).toList();
  }

  // Appending right after the last entry keeps everything, in progress or not.
  @Test
  void truncateAndAppendAppendsDirectlyAfterTheLastEntry() {
    Unstable u = unstable(5, 6, entries(5, 1));

    u.truncateAndAppend(entries(6, 1, 1));

    assertThat(u.offset).isEqualTo(5);
    assertThat(u.offsetInProgress).isEqualTo(6);
    assertThat(terms(u)).containsExactly(1L, 1L, 1L);
  }

  // Entries from at or before the offset replace the unstable part; none stay in progress.
  @Test
  void truncateAndAppendReplacesEverythingFromBeforeTheOffset() {
    Unstable same = unstable(5, 6, entries(5, 1));
    same.truncateAndAppend(entries(5, 2, 2));
    assertThat(same.offset).isEqualTo(5);
    assertThat(same.offsetInProgress).isEqualTo(5);
    assertThat(terms(same)).containsExactly(2L, 2L);

    Unstable before = unstable(5, 6, entries(5, 1));
    before.truncateAndAppend(entries(4, 2, 2, 2));
    assertThat(before.offset).isEqualTo(4);
    assertThat(before.offsetInProgress).isEqualTo(4);
    assertThat(terms(before)).containsExactly(2L, 2L, 2L);
    assertThat(before.entries.get(0).index()).isEqualTo(4);
  }

  // A conflict inside truncates there; only earlier in-progress entries stay in progress.
  @Test
  void truncateAndAppendTruncatesInsideAndPullsBackTheInProgressMark() {
    long[][] cases = {
        // offsetInProgress before, after
        {5, 5}, {6, 6}, {7, 6}, {8, 6},
    };
    for (long[] c : cases) {
      Unstable u = unstable(5, c[0], entries(5, 1, 1, 1));
      u.truncateAndAppend(entries(6, 2));
      assertThat(u.offset).isEqualTo(5);
      assertThat(terms(u)).containsExactly(1L, 2L);
      assertThat(u.offsetInProgress).as("in progress was %d", c[0]).isEqualTo(c[1]);
    }
  }

  // Handing entries out marks them in progress; they are not handed out twice.
  @Test
  void acceptInProgressHandsEachEntryOutOnce() {
    Unstable u = unstable(5, 5, entries(5, 1, 1, 1));
    assertThat(u.nextEntries()).extracting(Entry::index).containsExactly(5L, 6L, 7L);

    u.acceptInProgress();
    assertThat(u.offsetInProgress).isEqualTo(8);
    assertThat(u.nextEntries()).isEmpty();

    u.truncateAndAppend(entries(7, 2, 2));
    assertThat(u.nextEntries()).as("the replaced entry goes out again")
        .extracting(Entry::index).containsExactly(7L, 8L);
  }

  // stableTo drops the persisted prefix; it keeps what is still in progress after it.
  @Test
  void stableToDropsThePersistedPrefixAndKeepsTheInProgressMark() {
    Unstable one = unstable(5, 6, entries(5, 1));
    one.stableTo(5, 1);
    assertThat(one.offset).isEqualTo(6);
    assertThat(one.entries).isEmpty();
    assertThat(one.offsetInProgress).isEqualTo(6);

    Unstable partial = unstable(5, 7, entries(5, 1, 1));
    partial.stableTo(5, 1);
    assertThat(partial.offset).isEqualTo(6);
    assertThat(partial.entries).extracting(Entry::index).containsExactly(6L);
    assertThat(partial.offsetInProgress).as("entry 6 is still being written").isEqualTo(7);

    Unstable notStarted = unstable(5, 6, entries(5, 1, 1));
    notStarted.stableTo(5, 1);
    assertThat(notStarted.offsetInProgress).isEqualTo(6);
    assertThat(notStarted.nextEntries()).extracting(Entry::index).containsExactly(6L);
  }

  // stableTo ignores replaced entries, missing indexes and the snapshot's index.
  @Test
  void stableToIgnoresReplacedMissingAndSnapshotIndexes() {
    Unstable replaced = unstable(6, 7, entries(6, 2));
    replaced.stableTo(6, 1);
    assertThat(replaced.offset).isEqualTo(6);
    assertThat(replaced.entries).hasSize(1);

    Unstable stale = unstable(5, 6, entries(5, 1));
    stale.stableTo(4, 1);
    stale.stableTo(9, 1);
    assertThat(stale.offset).isEqualTo(5);
    assertThat(stale.entries).hasSize(1);

    Unstable withSnap = unstable(5, 6, entries(5, 1));
    withSnap.snapshot = new Snapshot(null, new SnapshotMetadata(ConfState.ofVoters(1L), 4, 1));
    withSnap.stableTo(4, 1);
    assertThat(withSnap.offset).isEqualTo(5);
    withSnap.stableTo(5, 1);
    assertThat(withSnap.offset).isEqualTo(6);
    assertThat(withSnap.entries).isEmpty();

    Unstable empty = new Unstable(5);
    empty.stableTo(5, 1);
    assertThat(empty.offset).isEqualTo(5);
  }

  // Indexes and terms come from the entries, or from the snapshot when there are none.
  @Test
  void indexesAndTermsComeFromEntriesOrTheSnapshot() {
    Unstable u = new Unstable(5);
    assertThat(u.maybeFirstIndex()).isZero();
    assertThat(u.maybeLastIndex()).isZero();
    assertThat(u.maybeTerm(5)).isEqualTo(-1);

    Snapshot snap = new Snapshot(null, new SnapshotMetadata(ConfState.ofVoters(1L), 4, 1));
    u.restore(snap);
    assertThat(u.offset).isEqualTo(5);
    assertThat(u.maybeFirstIndex()).isEqualTo(5);
    assertThat(u.maybeLastIndex()).isEqualTo(4);
    assertThat(u.maybeTerm(4)).isEqualTo(1);
    assertThat(u.nextSnapshot()).isEqualTo(snap);
    u.acceptInProgress();
    assertThat(u.nextSnapshot()).as("handed out once").isNull();
    u.stableSnapTo(3);
    assertThat(u.snapshot).isNotNull();
    u.stableSnapTo(4);
    assertThat(u.snapshot).isNull();

    u.truncateAndAppend(entries(5, 2, 3));
    assertThat(u.maybeLastIndex()).isEqualTo(6);
    assertThat(u.maybeTerm(6)).isEqualTo(3);
    assertThat(u.maybeTerm(7)).isEqualTo(-1);
    assertThat(u.maybeTerm(3)).isEqualTo(-1);
  }
}
