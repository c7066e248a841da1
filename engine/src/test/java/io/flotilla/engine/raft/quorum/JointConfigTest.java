package io.flotilla.engine.raft.quorum;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class JointConfigTest {

  private static final JointConfig JOINT =
      new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.of(1, 2, 4));

  private static AckedIndexer acked(Map<Long, Long> m) {
    return id -> m.getOrDefault(id, 0L);
  }

  @Test
  void jointCommitIsMinimumOfBothHalves() {
    // Incoming (1 2 3) commits 8 (1 and 3 at >= 8); outgoing (1 2 4) commits 5 (1 and 4 at >= 5).
    AckedIndexer l = acked(Map.of(1L, 9L, 2L, 2L, 3L, 8L, 4L, 5L));
    assertThat(JOINT.incoming().committedIndex(l)).isEqualTo(8);
    assertThat(JOINT.outgoing().committedIndex(l)).isEqualTo(5);
    assertThat(JOINT.committedIndex(l)).isEqualTo(5);
  }

  @Test
  void emptyHalfDoesNotBlockJointQuorum() {
    JointConfig simple = new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.EMPTY);
    assertThat(simple.committedIndex(acked(Map.of(1L, 7L, 2L, 6L)))).isEqualTo(6);
    assertThat(simple.voteResult(Map.of(1L, true, 2L, true))).isEqualTo(VoteResult.WON);
    assertThat(simple.voteResult(Map.of(1L, false, 2L, false))).isEqualTo(VoteResult.LOST);
  }

  @Test
  void jointVoteNeedsBothHalves() {
    // 3 grants a majority of the incoming half only.
    assertThat(JOINT.voteResult(Map.of(1L, true, 3L, true))).isEqualTo(VoteResult.PENDING);
    assertThat(JOINT.voteResult(Map.of(1L, true, 3L, true, 4L, true))).isEqualTo(VoteResult.WON);
    assertThat(JOINT.voteResult(Map.of(1L, true, 2L, true))).isEqualTo(VoteResult.WON);
  }

  @Test
  void jointVoteIsLostWhenEitherHalfLoses() {
    // Outgoing (1 2 4) loses on 2 and 4 even though the incoming half won.
    assertThat(JOINT.voteResult(Map.of(1L, true, 3L, true, 2L, false, 4L, false)))
        .isEqualTo(VoteResult.LOST);
    assertThat(JOINT.voteResult(Map.of(2L, false, 3L, false))).isEqualTo(VoteResult.LOST);
  }

  @Test
  void idsAreTheSortedUnionOfBothHalves() {
    assertThat(JOINT.ids()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(JOINT.contains(4)).isTrue();
    assertThat(JOINT.contains(5)).isFalse();
    assertThat(JOINT.isJoint()).isTrue();
    assertThat(JointConfig.EMPTY.isJoint()).isFalse();
    assertThat(JointConfig.EMPTY.ids()).isEmpty();
  }

  @Test
  void toStringShowsBothHalvesOnlyWhenJoint() {
    assertThat(JOINT).hasToString("(1 2 3)&&(1 2 4)");
    assertThat(new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.EMPTY))
        .hasToString("(1 2 3)");
  }

  @Test
  void equalityIsByBothHalves() {
    assertThat(new JointConfig(MajorityConfig.of(3, 2, 1), MajorityConfig.of(4, 2, 1)))
        .isEqualTo(JOINT).hasSameHashCodeAs(JOINT)
        .isNotEqualTo(new JointConfig(MajorityConfig.of(1, 2, 4), MajorityConfig.of(1, 2, 3)));
  }
}
