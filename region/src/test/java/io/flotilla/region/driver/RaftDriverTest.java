package io.flotilla.region.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.raft.ReadOnlyOption;
import io.flotilla.region.testkit.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RaftDriverTest {
  @TempDir Path dir;

  private static DriverConfig fast() {
    return DriverConfig.defaults().withTickIntervalMs(20).withPollerThreads(2);
  }

  @Test
  void theLeaderAppliesItsOwnProposalsWithWhatTheProposerAttachedAndFollowersDecode() throws Exception {
    try (InProcessCluster c = new InProcessCluster(dir, 3, fast())) {
      c.startGroups(1);
      await().atMost(Duration.ofSeconds(20)).until(() -> c.leaderOf(1) != 0);
      long leader = c.leaderOf(1);
      Object parsed = new Object();
      long index = c.driver(leader).propose(1, new byte[] {7}, parsed, Long.class).get(10, TimeUnit.SECONDS);
      assertThat(c.machine(leader).attached.get(index)).isSameAs(parsed);
      await().atMost(Duration.ofSeconds(10)).until(() -> c.nodeIds().stream()
          .allMatch(n -> c.machine(n).applied(1).stream().anyMatch(v -> v.length == 1 && v[0] == 7)));
      for (long n : c.nodeIds()) {
        if (n != leader) {
          assertThat(c.machine(n).attached).as("node %d (a follower)", n).isEmpty();
        }
      }
    }
  }

  /**
   * With lease reads, a leader that heard a quorum within its lease answers a read with
   * no message exchange (SAFE would need a heartbeat round, which the cut makes impossible); once
   * it cannot renew the lease, reads fail (check-quorum steps it down) instead of being served.
   */
  @Test
  void withLeaseReadsALeaderReadsOnItsLeaseAloneUntilItCannotRenewIt() throws Exception {
    DriverConfig config = DriverConfig.defaults().withPollerThreads(2).withReadOnlyOption(ReadOnlyOption.LEASE_BASED);
    try (InProcessCluster c = new InProcessCluster(dir, 3, config)) {
      c.startGroups(1);
      await().atMost(Duration.ofSeconds(20)).until(() -> c.leaderOf(1) != 0);
      long leader = c.leaderOf(1);
      RaftDriver l = c.driver(leader);
      l.propose(1, new byte[] {1}).get(10, TimeUnit.SECONDS);
      l.readIndex(1).get(10, TimeUnit.SECONDS);
      c.network().isolate(leader);
      long cutAt = System.nanoTime();
      // The lease runs electionTick - 2 = 8 ticks (800 ms) from the last heartbeat round a quorum answered.
      assertThat(l.readIndex(1)).succeedsWithin(Duration.ofMillis(400));
      // Reads go on until one is refused; none is served past the lease (counted from before the cut).
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        long issuedMs = (System.nanoTime() - cutAt) / 1_000_000;
        try {
          l.readIndex(1).get(2, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException refused) {
          return true;
        }
        assertThat(issuedMs).as("a read was served %d ms after the leader was cut off", issuedMs).isLessThan(1000);
        return false;
      });
    }
  }

  @Test
  void proposalToAFollowerFailsWithTheLeaderAsHint() throws Exception {
    try (InProcessCluster c = new InProcessCluster(dir, 3, fast())) {
      c.startGroups(1);
      await().atMost(Duration.ofSeconds(20)).until(() -> c.leaderOf(1) != 0);
      long leader = c.leaderOf(1);
      long follower = leader == 1 ? 2 : 1;
      CompletableFuture<Object> f = c.driver(follower).propose(1, new byte[] {1});
      assertThat(f).failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .havingCause()
          .isInstanceOfSatisfying(NotLeaderException.class, e -> assertThat(e.leaderNode()).isEqualTo(leader));
    }
  }

  @Test
  void readsQueuedTogetherShareOneReadIndexAndSeeEveryAcknowledgedWrite() throws Exception {
    try (InProcessCluster c = new InProcessCluster(dir, 3, fast())) {
      c.startGroups(1);
      await().atMost(Duration.ofSeconds(20)).until(() -> c.leaderOf(1) != 0);
      RaftDriver leader = c.driver(c.leaderOf(1));
      for (int round = 0; round < 5; round++) {
        long before = leader.info(1).applied();
        leader.propose(1, new byte[] {(byte) round}).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> leader.info(1).applied() > before);
        long written = leader.info(1).applied();
        List<CompletableFuture<Long>> reads = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          reads.add(leader.readIndex(1));
        }
        for (CompletableFuture<Long> r : reads) {
          // Linearizable: each read waits until everything acknowledged before it is applied.
          assertThat(r.get(10, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(written);
        }
      }
    }
  }
}
