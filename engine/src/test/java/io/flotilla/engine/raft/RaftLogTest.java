package io.flotilla.engine.raft;

import static io.flotilla.engine.raft.RaftFixtures.entries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link RaftLog}: the append, conflict and commit rules (etcd log_test.go). */
class RaftLogTest {

  /** A log over a storage holding {@code terms} from index 1, committed up to {@code committed}. */
  private static RaftLog log(long committed, long... terms) {
    MemoryStorage s = new MemoryStorage();
    s.append(entries(1, terms));
    RaftLog l = new RaftLog(s, Long.MAX_VALUE);
    l.commitTo(committed);
    return l;
  }

  /** A log whose storage was compacted at (dummyIndex, terms[0]); the rest follow it. */
  private static RaftLog compactedLog(long dummyIndex, long... terms) {
    MemoryStorage s = new MemoryStorage();
    s.applySnapshot(new Snapshot(null, new SnapshotMetadata(ConfState.ofVoters(1L), dummyIndex, terms[0])));
    long[] rest = java.util.Arrays.copyOfRange(terms, 1, terms.length);
    s.append(entries(dummyIndex + 1, rest));
    return new RaftLog(s, Long.MAX_VALUE);
  }

  private static List<Long> terms(RaftLog l) {
    return Stream.iterate(l.firstIndex(), i -> i <= l.lastIndex(), i -> i + 1).map(l::term).toList();
  }

  static Stream<Arguments> maybeAppendCases() {
    // Log 1/1 2/2 3/3, committed 1.
    // (prevTerm, prevIndex, leaderCommit, entries, lastNew, commit, terms after)
    return Stream.of(
        // previous entry does not match: rejected, nothing changes
        Arguments.of(2, 3, 3, entries(4, 4), -1, 1, List.of(1L, 2L, 3L)),
        Arguments.of(3, 4, 3, entries(5, 4), -1, 1, List.of(1L, 2L, 3L)),
        // matches, nothing to add: commit moves to min(leaderCommit, lastNew), never back
        Arguments.of(3, 3, 3, List.of(), 3, 3, List.of(1L, 2L, 3L)),
        Arguments.of(3, 3, 4, List.of(), 3, 3, List.of(1L, 2L, 3L)),
        Arguments.of(3, 3, 2, List.of(), 3, 2, List.of(1L, 2L, 3L)),
        Arguments.of(3, 3, 0, List.of(), 3, 1, List.of(1L, 2L, 3L)),
        Arguments.of(0, 0, 3, List.of(), 0, 1, List.of(1L, 2L, 3L)),
        // new entries appended
        Arguments.of(3, 3, 3, entries(4, 4), 4, 3, List.of(1L, 2L, 3L, 4L)),
        Arguments.of(3, 3, 4, entries(4, 4), 4, 4, List.of(1L, 2L, 3L, 4L)),
        Arguments.of(3, 3, 5, entries(4, 4), 4, 4, List.of(1L, 2L, 3L, 4L)),
        Arguments.of(3, 3, 5, entries(4, 4, 4), 5, 5, List.of(1L, 2L, 3L, 4L, 4L)),
        // conflicting uncommitted suffix replaced
        Arguments.of(2, 2, 3, entries(3, 4), 3, 3, List.of(1L, 2L, 4L)),
        Arguments.of(1, 1, 3, entries(2, 4), 2, 2, List.of(1L, 4L)),
        Arguments.of(1, 1, 3, entries(2, 4, 4), 3, 3, List.of(1L, 4L, 4L)),
        // entries already there: a stale append does not truncate
        Arguments.of(1, 1, 3, entries(2, 2), 2, 2, List.of(1L, 2L, 3L)));
  }

  // §5.3: append after a matching entry, replace conflicts, commit min(leaderCommit, lastNew).
  @ParameterizedTest
  @MethodSource("maybeAppendCases")
  void maybeAppendFollowsTheAppendEntriesRules(
      long prevTerm, long prevIndex, long leaderCommit, List<Entry> ents,
      long lastNew, long commit, List<Long> after) {
    RaftLog l = log(1, 1, 2, 3);

    long got = l.maybeAppend(prevIndex, prevTerm, leaderCommit, ents);

    assertThat(got).isEqualTo(lastNew);
    assertThat(l.committed).isEqualTo(commit);
    assertThat(terms(l)).isEqualTo(after);
  }

  // §5.3: a conflict with a committed entry is a safety violation, refused loudly.
  @Test
  void maybeAppendRefusesToOverwriteCommittedEntries() {
    RaftLog l = log(2, 1, 2, 3);

    assertThatThrownBy(() -> l.maybeAppend(0, 0, 3, entries(1, 4)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("conflicts with committed entry");
    assertThat(terms(l)).containsExactly(1L, 2L, 3L);
  }

  // etcd TestFindConflict: the first new or conflicting index, 0 if all are present.
  @Test
  void findConflictReturnsTheFirstNewOrConflictingIndex() {
    RaftLog l = log(0, 1, 2, 3);

    assertThat(l.findConflict(List.of())).isZero();
    assertThat(l.findConflict(entries(1, 1, 2, 3))).isZero();
    assertThat(l.findConflict(entries(2, 2, 3))).isZero();
    assertThat(l.findConflict(entries(3, 3))).isZero();
    assertThat(l.findConflict(entries(1, 1, 2, 3, 4, 4))).isEqualTo(4);
    assertThat(l.findConflict(entries(3, 3, 4, 4))).isEqualTo(4);
    assertThat(l.findConflict(entries(4, 4, 4))).isEqualTo(4);
    assertThat(l.findConflict(entries(1, 4, 4))).isEqualTo(1);
    assertThat(l.findConflict(entries(2, 1, 4, 4))).isEqualTo(2);
    assertThat(l.findConflict(entries(3, 1, 2, 4, 4))).isEqualTo(3);
  }

  // etcd TestFindConflictByTerm: largest index <= i with term <= t; unknown terms are 0.
  @Test
  void findConflictByTermSkipsEntriesOfHigherTerms() {
    RaftLog l = log(0, 2, 2, 5, 5, 5);
    long[][] cases = {
        // index, term, want index, want term
        {100, 2, 100, 0}, {5, 6, 5, 5}, {5, 5, 5, 5}, {5, 4, 2, 2}, {5, 2, 2, 2},
        {5, 1, 0, 0}, {1, 2, 1, 2}, {1, 1, 0, 0}, {0, 0, 0, 0},
    };
    for (long[] c : cases) {
      assertThat(l.findConflictByTerm(c[0], c[1])).as("(%d, %d)", c[0], c[1]).containsExactly(c[2], c[3]);
    }

    RaftLog compacted = compactedLog(10, 3, 3, 3, 4, 4, 4);
    long[][] compactedCases = {
        {30, 3, 30, 0}, {14, 9, 14, 4}, {14, 4, 14, 4}, {14, 3, 12, 3}, {14, 2, 9, 0},
        {11, 5, 11, 3}, {10, 5, 10, 3}, {10, 3, 10, 3}, {10, 2, 9, 0}, {9, 2, 9, 0}, {0, 0, 0, 0},
    };
    for (long[] c : compactedCases) {
      assertThat(compacted.findConflictByTerm(c[0], c[1])).as("compacted (%d, %d)", c[0], c[1])
          .containsExactly(c[2], c[3]);
    }
  }

  // §5.3: the commit index never moves back and never past the last entry.
  @Test
  void commitToNeverDecreasesAndNeverPassesTheLastIndex() {
    RaftLog l = log(2, 1, 2, 3);

    l.commitTo(1);
    assertThat(l.committed).isEqualTo(2);
    l.commitTo(3);
    assertThat(l.committed).isEqualTo(3);
    assertThatThrownBy(() -> l.commitTo(4)).isInstanceOf(IllegalStateException.class);
    assertThat(l.committed).isEqualTo(3);
  }

  // §5.4.2: the leader commits an index by counting only if its entry is of the current term.
  @Test
  void maybeCommitOnlyCommitsEntriesOfTheGivenTerm() {
    RaftLog l = log(0, 1, 2, 2);

    assertThat(l.maybeCommit(1, 2)).isFalse();
    assertThat(l.committed).isZero();
    assertThat(l.maybeCommit(2, 2)).isTrue();
    assertThat(l.committed).isEqualTo(2);
    assertThat(l.maybeCommit(1, 1)).as("never backwards").isFalse();
    assertThat(l.maybeCommit(5, 2)).as("past the end").isFalse();
    assertThat(l.committed).isEqualTo(2);
  }

  // The state machine cannot apply what is not committed, nor go back.
  @Test
  void appliedToStaysBetweenAppliedAndCommitted() {
    RaftLog l = log(2, 1, 2, 3);

    l.appliedTo(1);
    l.appliedTo(2);
    assertThat(l.applied).isEqualTo(2);
    assertThatThrownBy(() -> l.appliedTo(3)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> l.appliedTo(1)).isInstanceOf(IllegalStateException.class);
    assertThat(l.nextCommittedEntries()).isEmpty();
    l.commitTo(3);
    assertThat(l.nextCommittedEntries()).extracting(Entry::index).containsExactly(3L);
  }

  // §5.4.1: later last term wins; with equal last terms the longer log wins.
  @Test
  void isUpToDateComparesLastTermThenLastIndex() {
    RaftLog l = log(0, 1, 2, 3);

    assertThat(l.isUpToDate(2, 4)).isTrue();
    assertThat(l.isUpToDate(3, 3)).isTrue();
    assertThat(l.isUpToDate(4, 3)).isTrue();
    assertThat(l.isUpToDate(2, 3)).isFalse();
    assertThat(l.isUpToDate(10, 2)).isFalse();
  }

  // Entries come from storage then the unstable tail, within maxSize (at least one).
  @Test
  void sliceJoinsStableAndUnstableEntriesWithinTheSizeLimit() {
    RaftLog l = log(0, 1, 1, 1);
    l.append(entries(4, 2, 2));

    assertThat(l.slice(2, 6, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(2L, 3L, 4L, 5L);
    assertThat(l.slice(2, 6, 0)).extracting(Entry::index).containsExactly(2L);
    assertThat(l.slice(2, 6, 48)).extracting(Entry::index).containsExactly(2L, 3L);
    assertThat(l.entries(6, Long.MAX_VALUE)).isEmpty();
    assertThat(l.term(5)).isEqualTo(2);
    assertThat(l.termOrMinus(6)).isEqualTo(-1);
    assertThatThrownBy(() -> l.slice(2, 7, Long.MAX_VALUE)).isInstanceOf(IllegalStateException.class);
  }

  // Reading below the first index fails as compacted; terms there are unknown (-1).
  @Test
  void compactedEntriesAreReportedAsCompacted() {
    RaftLog l = compactedLog(10, 3, 3, 4);

    assertThat(l.firstIndex()).isEqualTo(11);
    assertThat(l.term(10)).as("the snapshot's term is still known").isEqualTo(3);
    assertThat(l.termOrMinus(9)).isEqualTo(-1);
    assertThatThrownBy(() -> l.term(9)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> l.slice(10, 12, Long.MAX_VALUE)).isInstanceOf(CompactedException.class);
    assertThat(l.committed).as("a restored log starts committed at its snapshot").isEqualTo(10);
  }

  // Appending below the commit index is a bug in the caller.
  @Test
  void appendBelowTheCommitIndexIsRefused() {
    RaftLog l = log(2, 1, 2, 3);

    assertThatThrownBy(() -> l.append(entries(2, 5))).isInstanceOf(IllegalStateException.class);
    assertThat(l.append(entries(3, 5))).isEqualTo(3);
    assertThat(terms(l)).containsExactly(1L, 2L, 5L);
  }
}
