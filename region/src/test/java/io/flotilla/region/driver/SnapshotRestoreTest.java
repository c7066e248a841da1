package io.flotilla.region.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.region.testkit.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A snapshot's slow half ({@link StateMachine#prepareRestore}) runs off the pollers. */
class SnapshotRestoreTest {
  @TempDir Path dir;

  /**
   * A node with ONE poller receives a snapshot for group 1 whose ingest is held: its group 2 still
   * applies new entries meanwhile (an ingest on the poller would stall it), group 1 applies nothing
   * of the snapshot until the ingest ends, then catches up.
   */
  @Test
  void aSnapshotIsIngestedOnTheRestoreWorkerWhileTheNodesOtherGroupsGoOn() throws Exception {
    DriverConfig cfg = DriverConfig.defaults().withTickIntervalMs(20).withPollerThreads(1).withNodeDeadAfterMs(300)
        .withCompactLogAfterEntries(20);
    try (InProcessCluster c = new InProcessCluster(dir, 3, cfg)) {
      c.startGroups(2);
      await().atMost(Duration.ofSeconds(20)).until(() -> c.leaderOf(1) != 0 && c.leaderOf(2) != 0);
      long lagging = c.nodeIds().stream().filter(n -> n != c.leaderOf(1) && n != c.leaderOf(2)).findFirst().orElseThrow();
      for (long other : c.nodeIds()) {
        if (other != lagging) {
          c.network().cut(lagging, other);
        }
      }
      for (int i = 0; i < 100; i++) {
        c.propose(1, "e" + i).get(10, TimeUnit.SECONDS);
      }
      LogStateMachine m = c.machine(lagging);
      CountDownLatch gate = new CountDownLatch(1);
      m.prepareGate = gate;
      c.network().heal();
      try {
        assertThat(m.prepareEntered.await(30, TimeUnit.SECONDS)).as("the snapshot reached the restore")
            .isTrue();
        c.propose(2, "while-restoring").get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.applied(lagging, 2).contains("while-restoring"));
        assertThat(c.applied(lagging, 1)).as("nothing of the snapshot before its ingest ends").hasSizeLessThan(100);
        assertThat(m.prepareThreads).allSatisfy(t -> assertThat(t).startsWith("flotilla-restore-" + lagging));
      } finally {
        gate.countDown();
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> c.applied(lagging, 1).size() == 100);
      assertThat(c.driver(lagging).counters().snapshotsApplied()).isPositive();
    }
  }
}
