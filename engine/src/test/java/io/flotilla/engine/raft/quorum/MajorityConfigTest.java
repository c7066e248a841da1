package io.flotilla.engine.raft.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MajorityConfigTest {

  private static AckedIndexer acked(Map<Long, Long> m) {
    return id -> m.getOrDefault(id, 0L);
  }

  @Test
  void committedIndexIsTheMajorityAckedIndex() {
    MajorityConfig c = MajorityConfig.of(1, 2, 3);
    assertThat(c.committedIndex(acked(Map.of(1L, 5L, 2L, 4L, 3L, 3L)))).isEqualTo(4);
    assertThat(c.committedIndex(acked(Map.of(1L, 5L, 2L, 5L, 3L, 1L)))).isEqualTo(5);
    AckedIndexer four = acked(Map.of(1L, 9L, 2L, 8L, 3L, 7L, 4L, 1L));
    assertThat(MajorityConfig.of(1, 2, 3, 4).committedIndex(four))
        .as("4 voters need 3 acks").isEqualTo(7);
    assertThat(MajorityConfig.of(7).committedIndex(acked(Map.of(7L, 12L)))).isEqualTo(12);
  }

  @Test
  void unknownVotersCountAsAckedZero() {
    MajorityConfig c = MajorityConfig.of(1, 2, 3);
    assertThat(c.committedIndex(acked(Map.of(1L, 10L)))).isZero();
    assertThat(c.committedIndex(acked(Map.of(1L, 10L, 2L, 6L)))).isEqualTo(6);
  }

  @Test
  void emptyConfigCommitsEverything() {
    assertThat(MajorityConfig.EMPTY.committedIndex(id -> 0)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void voteNeedsMajorityOfGrants() {
    MajorityConfig c = MajorityConfig.of(1, 2, 3);
    assertThat(c.voteResult(Map.of())).isEqualTo(VoteResult.PENDING);
    assertThat(c.voteResult(Map.of(1L, true))).isEqualTo(VoteResult.PENDING);
    assertThat(c.voteResult(Map.of(1L, true, 2L, true))).isEqualTo(VoteResult.WON);
    assertThat(c.voteResult(Map.of(1L, true, 2L, false))).isEqualTo(VoteResult.PENDING);
    assertThat(c.voteResult(Map.of(1L, false, 2L, false))).isEqualTo(VoteResult.LOST);
  }

  @Test
  void evenConfigLosesWhenHalfRejects() {
    MajorityConfig c = MajorityConfig.of(1, 2, 3, 4);
    assertThat(c.voteResult(Map.of(1L, true, 2L, true))).isEqualTo(VoteResult.PENDING);
    assertThat(c.voteResult(Map.of(1L, true, 2L, true, 3L, true))).isEqualTo(VoteResult.WON);
    assertThat(c.voteResult(Map.of(1L, false, 2L, false))).isEqualTo(VoteResult.LOST);
  }

  @Test
  void votesOfNonVotersAreIgnored() {
    MajorityConfig c = MajorityConfig.of(1, 2, 3);
    assertThat(c.voteResult(Map.of(1L, true, 4L, true, 5L, true))).isEqualTo(VoteResult.PENDING);
    assertThat(c.voteResult(Map.of(4L, false, 5L, false))).isEqualTo(VoteResult.PENDING);
  }

  @Test
  void emptyConfigWinsEveryVote() {
    assertThat(MajorityConfig.EMPTY.voteResult(Map.of())).isEqualTo(VoteResult.WON);
    assertThat(MajorityConfig.EMPTY.voteResult(Map.of(1L, false))).isEqualTo(VoteResult.WON);
  }

  @Test
  void idsAreSortedDeduplicatedAndUnmodifiable() {
    MajorityConfig c = new MajorityConfig(List.of(3L, 1L, 2L, 3L));
    assertThat(c.ids()).containsExactly(1L, 2L, 3L);
    assertThat(c.size()).isEqualTo(3);
    assertThat(c.contains(2)).isTrue();
    assertThat(c.contains(4)).isFalse();
    assertThat(c.isEmpty()).isFalse();
    assertThat(MajorityConfig.EMPTY.isEmpty()).isTrue();
    assertThatThrownBy(() -> c.ids().add(9L)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void equalityIsByIdsAndToStringListsThemSorted() {
    assertThat(MajorityConfig.of(3, 1, 2)).isEqualTo(new MajorityConfig(List.of(1L, 2L, 3L)))
        .hasSameHashCodeAs(MajorityConfig.of(1, 2, 3)).isNotEqualTo(MajorityConfig.of(1, 2));
    assertThat(MajorityConfig.of(3, 1, 2)).hasToString("(1 2 3)");
    assertThat(MajorityConfig.EMPTY).hasToString("()");
  }
}
