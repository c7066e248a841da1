package io.flotilla.engine.raft.tracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProgressTest {

  private static Progress replicating(long match, int maxInflight) {
    Progress p = new Progress(match, match + 1, maxInflight, false);
    p.becomeReplicate();
    return p;
  }

  @Test
  void newProgressProbesAndIsInactive() {
    Progress p = new Progress(0, 6, 4, true);
    assertThat(p.state()).isEqualTo(ProgressState.PROBE);
    assertThat(p.recentActive()).isFalse();
    assertThat(p.isLearner()).isTrue();
    assertThat(p.isPaused()).isFalse();
    assertThat(p.match()).isZero();
    assertThat(p.next()).isEqualTo(6);
  }

  @Test
  void probePausesAfterOneAppendUntilResponse() {
    Progress p = new Progress(0, 6, 4, false);
    p.sentEntries(3, 8);
    assertThat(p.isPaused()).isTrue();
    assertThat(p.next()).as("probe does not advance next optimistically").isEqualTo(6);
    assertThat(p.maybeUpdate(8)).isTrue();
    assertThat(p.isPaused()).isFalse();
    assertThat(p.match()).isEqualTo(8);
    assertThat(p.next()).isEqualTo(9);
  }

  @Test
  void emptyProbePausesOnlyThroughProbeSent() {
    Progress p = new Progress(0, 6, 4, false);
    p.sentEntries(0, 5);
    assertThat(p.isPaused()).isFalse();
    p.probeSent();
    assertThat(p.isPaused()).isTrue();
    assertThat(p.msgAppFlowPaused()).isTrue();
  }

  @Test
  void replicateAdvancesNextOptimistically() {
    Progress p = replicating(5, 4);
    p.sentEntries(3, 8);
    assertThat(p.next()).isEqualTo(9);
    assertThat(p.inflights().count()).isEqualTo(1);
    p.sentEntries(0, 8);
    assertThat(p.inflights().count()).as("empty appends take no slot").isEqualTo(1);
    assertThat(p.isPaused()).isFalse();
  }

  @Test
  void replicatePausesWhenInflightWindowFull() {
    Progress p = replicating(5, 2);
    p.sentEntries(1, 6);
    assertThat(p.isPaused()).isFalse();
    p.sentEntries(1, 7);
    assertThat(p.isPaused()).isTrue();
    p.maybeUpdate(6);
    p.inflights().freeLE(6);
    assertThat(p.isPaused()).isFalse();
  }

  @Test
  void snapshotStateIsAlwaysPausedAndRefusesAppends() {
    Progress p = new Progress(3, 4, 4, false);
    p.becomeSnapshot(20);
    assertThat(p.state()).isEqualTo(ProgressState.SNAPSHOT);
    assertThat(p.pendingSnapshot()).isEqualTo(20);
    assertThat(p.isPaused()).isTrue();
    assertThatThrownBy(() -> p.sentEntries(1, 21))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("StateSnapshot");
  }

  @Test
  void becomeProbeFromSnapshotResumesAfterTheSnapshot() {
    Progress p = new Progress(3, 4, 4, false);
    p.becomeSnapshot(20);
    p.becomeProbe();
    assertThat(p.state()).isEqualTo(ProgressState.PROBE);
    assertThat(p.next()).isEqualTo(21);
    assertThat(p.pendingSnapshot()).isZero();

    Progress ahead = new Progress(30, 31, 4, false);
    ahead.becomeSnapshot(20);
    ahead.becomeProbe();
    assertThat(ahead.next()).as("never below match+1").isEqualTo(31);
  }

  @Test
  void becomeProbeFromReplicateRestartsAfterMatchAndClearsInflights() {
    Progress p = replicating(5, 4);
    p.sentEntries(2, 7);
    p.becomeProbe();
    assertThat(p.next()).isEqualTo(6);
    assertThat(p.inflights().count()).isZero();
    assertThat(p.isPaused()).isFalse();
  }

  @Test
  void becomeReplicateStartsAfterMatch() {
    Progress p = new Progress(5, 9, 4, false);
    p.probeSent();
    p.becomeReplicate();
    assertThat(p.state()).isEqualTo(ProgressState.REPLICATE);
    assertThat(p.next()).isEqualTo(6);
    assertThat(p.msgAppFlowPaused()).isFalse();
  }

  @Test
  void maybeUpdateIgnoresStaleAcknowledgement() {
    Progress p = new Progress(5, 9, 4, false);
    p.probeSent();
    assertThat(p.maybeUpdate(4)).isFalse();
    assertThat(p.match()).isEqualTo(5);
    assertThat(p.next()).as("next never moves back").isEqualTo(9);
    assertThat(p.isPaused()).as("a stale ack does not unpause").isTrue();
    assertThat(p.maybeUpdate(10)).isTrue();
    assertThat(p.next()).isEqualTo(11);
  }

  @Test
  void maybeDecrToIgnoresStaleRejection() {
    Progress r = replicating(5, 4);
    r.sentEntries(5, 10);
    assertThat(r.maybeDecrTo(5, 5)).as("replicate: rejects an index already matched").isFalse();
    assertThat(r.next()).isEqualTo(11);

    Progress p = new Progress(5, 10, 4, false);
    p.probeSent();
    assertThat(p.maybeDecrTo(7, 3)).as("probe: not the index last probed (9)").isFalse();
    assertThat(p.next()).isEqualTo(10);
    assertThat(p.isPaused()).isTrue();
  }

  @Test
  void maybeDecrToInReplicateResendsFromMatch() {
    Progress p = replicating(5, 4);
    p.sentEntries(5, 10);
    assertThat(p.maybeDecrTo(8, 0)).isTrue();
    assertThat(p.next()).isEqualTo(6);
  }

  @Test
  void maybeDecrToInProbeUsesHintButNotBelowMatch() {
    Progress p = new Progress(5, 10, 4, false);
    p.probeSent();
    assertThat(p.maybeDecrTo(9, 7)).isTrue();
    assertThat(p.next()).as("hint 7 + 1").isEqualTo(8);
    assertThat(p.isPaused()).isFalse();

    Progress q = new Progress(5, 10, 4, false);
    assertThat(q.maybeDecrTo(9, 2)).isTrue();
    assertThat(q.next()).as("clamped to match + 1").isEqualTo(6);

    Progress s = new Progress(0, 10, 4, false);
    assertThat(s.maybeDecrTo(9, 100)).isTrue();
    assertThat(s.next()).as("a hint above the rejected index is ignored").isEqualTo(9);
  }

  @Test
  void copyIsDeepIncludingInflights() {
    Progress p = replicating(5, 4);
    p.sentEntries(1, 6);
    p.setRecentActive(true);
    Progress c = p.copy();
    c.sentEntries(1, 7);
    c.setLearner(true);
    assertThat(p.inflights().count()).isEqualTo(1);
    assertThat(p.next()).isEqualTo(7);
    assertThat(p.isLearner()).isFalse();
    assertThat(c.inflights().count()).isEqualTo(2);
    assertThat(c.recentActive()).isTrue();
    assertThat(c.state()).isEqualTo(ProgressState.REPLICATE);
  }

  @Test
  void toStringNamesStateAndFlags() {
    Progress p = replicating(4, 4);
    p.setRecentActive(true);
    p.sentEntries(1, 5);
    p.maybeUpdate(5);
    assertThat(p).hasToString("StateReplicate match=5 next=6 inflight=1");
    Progress s = new Progress(1, 2, 4, true);
    s.becomeSnapshot(9);
    assertThat(s).hasToString("StateSnapshot match=1 next=2 learner paused pendingSnap=9 inactive");
  }
}
