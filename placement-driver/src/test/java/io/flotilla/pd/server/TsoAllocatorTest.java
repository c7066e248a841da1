package io.flotilla.pd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.Timestamps;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TSO allocator with a hand-moved clock and a stand-in for PD's Raft group (saves apply in
 * order, by {@code PdStateMachine}'s rule, when the test says so). No threads, no sleeps. The
 * randomised test prints its seed on failure; replay one with {@code -Dflotilla.seed=N}.
 */
class TsoAllocatorTest {
  static final long WINDOW = 3_000;

  /** PD's group as far as the TSO sees it: one saved bound, saves applied in proposal order. */
  static final class FakeRaft {
    long saved;
    boolean autoApply = true;
    final Deque<long[]> pendingUntil = new ArrayDeque<>();
    final Deque<CompletableFuture<Long>> pending = new ArrayDeque<>();
    int saves;

    CompletableFuture<Long> save(long untilMs) {
      saves++;
      if (autoApply) {
        return CompletableFuture.completedFuture(apply(untilMs));
      }
      CompletableFuture<Long> f = new CompletableFuture<>();
      pending.add(f);
      pendingUntil.add(new long[] {untilMs});
      return f;
    }

    /** PdStateMachine's rule: raise, never lower; answer the bound before. */
    long apply(long untilMs) {
      long before = saved;
      saved = Math.max(saved, untilMs);
      return before;
    }

    void applyNext() {
      pending.remove().complete(apply(pendingUntil.remove()[0]));
    }

    void failNext() {
      pendingUntil.remove();
      pending.remove().completeExceptionally(new IllegalStateException("proposal dropped"));
    }
  }

  final FakeRaft raft = new FakeRaft();
  final long[] clock = {10_000};

  TsoAllocator allocator() {
    return new TsoAllocator(WINDOW, () -> clock[0], raft::save);
  }

  static long now(CompletableFuture<Long> f) {
    assertThat(f).as("served without waiting").isDone();
    return f.join();
  }

  @Test
  void aLeaderServesNothingUntilItsOwnSaveOfTheTermApplied() {
    raft.autoApply = false;
    TsoAllocator tso = allocator();
    CompletableFuture<Long> first = tso.alloc(1, 1);
    assertThat(first).isNotDone();
    assertThat(raft.pendingUntil.peek()[0]).isEqualTo(13_000);

    raft.applyNext();

    long ts = now(first);
    assertThat(Timestamps.physicalMs(ts)).isEqualTo(10_000);
    assertThat(Timestamps.logical(ts)).isZero();
    assertThat(tso.windowEndMs()).isEqualTo(13_000);
  }

  @Test
  void aNewLeaderStartsAfterTheSavedWindowEvenWithAClockBehind() {
    TsoAllocator old = allocator();
    long last = 0;
    for (int i = 0; i < 100; i++) {
      last = now(old.alloc(1, 1 + i));
    }
    assertThat(raft.saved).isEqualTo(13_000);

    clock[0] = 9_000; // the new leader's clock is a second behind the old one's
    raft.autoApply = false;
    TsoAllocator next = allocator();
    next.prepare(2);
    assertThat(raft.pendingUntil.peek()[0]).as("its own clock + the window").isEqualTo(12_000);
    CompletableFuture<Long> f = next.alloc(2, 1);
    raft.applyNext(); // answers: the bound before was 13000, so [13000, 13000) is all it got
    assertThat(f).as("an empty window: it must save further first").isNotDone();
    assertThat(raft.pendingUntil.peek()[0]).isEqualTo(16_000);
    raft.applyNext();

    long ts = f.join();
    assertThat(Timestamps.physicalMs(ts)).as("strictly after the saved window").isEqualTo(13_000);
    assertThat(ts).isGreaterThan(last);
    assertThat(Timestamps.physicalMs(last)).isLessThan(13_000);
  }

  @Test
  void timestampsStayStrictlyIncreasingWhenTheClockGoesBackwards() {
    TsoAllocator tso = allocator();
    long a = now(tso.alloc(1, 1));
    clock[0] = 8_000;
    long b = now(tso.alloc(1, 5));
    clock[0] = 10_000;
    long c = now(tso.alloc(1, 1));
    clock[0] = 10_001;
    long d = now(tso.alloc(1, 1));

    assertThat(List.of(a, b, c, d)).isSorted().doesNotHaveDuplicates();
    assertThat(Timestamps.physicalMs(b)).as("the physical part stalls, it never goes back").isEqualTo(10_000);
    assertThat(Timestamps.logical(b)).isEqualTo(1);
    assertThat(Timestamps.logical(c)).as("after b's five").isEqualTo(6);
    assertThat(d).isEqualTo(Timestamps.compose(10_001, 0));
  }

  @Test
  void logicalOverflowMovesToTheNextMillisecond() {
    TsoAllocator tso = allocator();
    long a = now(tso.alloc(1, (int) Timestamps.LOGICAL_LIMIT - 1));
    long b = now(tso.alloc(1, 1));
    long c = now(tso.alloc(1, 2));

    assertThat(a).isEqualTo(Timestamps.compose(10_000, 0));
    assertThat(b).as("the last logical part of the ms")
        .isEqualTo(Timestamps.compose(10_000, Timestamps.LOGICAL_LIMIT - 1));
    assertThat(c).as("the ms is used up").isEqualTo(Timestamps.compose(10_001, 0));
    assertThat(now(tso.alloc(1, (int) Timestamps.LOGICAL_LIMIT))).as("a whole ms at once")
        .isEqualTo(Timestamps.compose(10_002, 0));
  }

  @Test
  void theWindowIsExtendedAheadOfNeedWithoutMakingCallersWait() {
    TsoAllocator tso = allocator();
    now(tso.alloc(1, 1));
    assertThat(raft.saves).isEqualTo(1);
    raft.autoApply = false;
    clock[0] = 11_900; // 1100 ms left: no save yet
    now(tso.alloc(1, 1));
    assertThat(raft.saves).isEqualTo(1);

    clock[0] = 12_100; // 900 ms left, under a third of the window
    long ts = now(tso.alloc(1, 1));
    assertThat(Timestamps.physicalMs(ts)).isEqualTo(12_100);
    assertThat(raft.pendingUntil.peek()[0]).isEqualTo(15_100);
    now(tso.alloc(1, 1));
    assertThat(raft.saves).as("one save in flight at a time").isEqualTo(2);

    raft.applyNext();
    assertThat(tso.windowEndMs()).isEqualTo(15_100);
  }

  @Test
  void overflowAtTheWindowsEndWaitsForTheExtensionAndNeverPassesTheSavedBound() {
    TsoAllocator tso = allocator();
    now(tso.alloc(1, 1));
    raft.autoApply = false;
    clock[0] = 12_999; // the window's last ms
    now(tso.alloc(1, (int) Timestamps.LOGICAL_LIMIT)); // uses it up, starts a save
    CompletableFuture<Long> waiting = tso.alloc(1, 1);
    assertThat(waiting).as("13000 is not saved yet").isNotDone();
    assertThat(raft.saved).isEqualTo(13_000);

    raft.applyNext();

    assertThat(waiting.join()).isEqualTo(Timestamps.compose(13_000, 0));
  }

  @Test
  void aClockFarAheadOfTheWindowWaitsForASaveFromItsOwnTime() {
    TsoAllocator tso = allocator();
    now(tso.alloc(1, 1));
    raft.autoApply = false;
    clock[0] = 60_000;
    CompletableFuture<Long> f = tso.alloc(1, 1);
    assertThat(f).isNotDone();
    assertThat(raft.pendingUntil.peek()[0]).isEqualTo(63_000);
    raft.applyNext();
    assertThat(Timestamps.physicalMs(f.join())).isEqualTo(60_000);
  }

  @Test
  void aFailedSaveFailsItsWaitersAndTheNextCallSavesAgain() {
    raft.autoApply = false;
    TsoAllocator tso = allocator();
    CompletableFuture<Long> f = tso.alloc(1, 1);
    raft.failNext();
    assertThat(f).isCompletedExceptionally();
    CompletableFuture<Long> g = tso.alloc(1, 1);
    raft.applyNext();
    assertThat(Timestamps.physicalMs(g.join())).isEqualTo(10_000);
  }

  @Test
  void aNewTermForgetsTheOldWindowAndAnOldTermIsRefused() {
    TsoAllocator tso = allocator();
    long a = now(tso.alloc(1, 1));
    raft.saved = 20_000; // another leader ran meanwhile and saved up to 20000
    raft.autoApply = false;
    CompletableFuture<Long> b = tso.alloc(3, 1);
    assertThat(b).as("term 3 waits for its own save").isNotDone();
    raft.applyNext();
    raft.applyNext();
    assertThat(Timestamps.physicalMs(b.join())).isEqualTo(20_000);
    assertThat(b.join()).isGreaterThan(a);
    assertThatThrownBy(() -> tso.alloc(2, 1)).isInstanceOf(TsoAllocator.StaleTermException.class);
  }

  @Test
  void aSaveOfAnEarlierTermIsNeverUsed() {
    raft.autoApply = false;
    TsoAllocator tso = allocator();
    CompletableFuture<Long> t1 = tso.alloc(1, 1);
    CompletableFuture<Long> t2 = tso.alloc(2, 1);
    raft.applyNext(); // term 1's save
    assertThat(t2).isNotDone();
    assertThat(t1).as("term 1's waiter retries, and is refused: that leadership is over")
        .isCompletedExceptionally();
    assertThatThrownBy(t1::join).isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(TsoAllocator.StaleTermException.class);
    raft.applyNext(); // term 2's save: the bound before was 13000, so [13000, 13000)
    raft.applyNext(); // and the extension it then needs
    assertThat(Timestamps.physicalMs(t2.join())).isEqualTo(13_000);
  }

  static List<Long> seeds() {
    String fixed = System.getProperty("flotilla.seed");
    if (fixed != null) {
      return List.of(Long.parseLong(fixed));
    }
    return List.of(1L, 2L, 3L, 42L, new Random().nextLong());
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void randomClocksTermsAndCountsNeverRepeatOrPassTheSavedBound(long seed) {
    try {
      runRandom(seed);
    } catch (AssertionError e) {
      throw new AssertionError("seed " + seed + " (replay with -Dflotilla.seed=" + seed + "): " + e.getMessage(), e);
    }
  }

  /**
   * Leaders take turns (a new allocator in a higher term each time, as after a failover), with
   * clocks that jump and go back and saves that apply late, in any order of calls.
   */
  private void runRandom(long seed) {
    Random rnd = new Random(seed);
    raft.autoApply = false;
    clock[0] = 1_000_000;
    List<List<long[]>> byLeader = new ArrayList<>(); // per leader: {first, count, saved bound when seen}
    long term = 0;
    for (int leader = 0; leader < 20; leader++) {
      term += 1 + rnd.nextInt(3);
      TsoAllocator tso = allocator();
      clock[0] = Math.max(1_000, clock[0] + rnd.nextInt(8_000) - 4_000);
      List<long[]> handedOut = new ArrayList<>();
      byLeader.add(handedOut);
      List<CompletableFuture<Long>> open = new ArrayList<>();
      List<Integer> counts = new ArrayList<>();
      for (int step = 0; step < 300; step++) {
        switch (rnd.nextInt(6)) {
          case 0 -> clock[0] = Math.max(1_000, clock[0] + rnd.nextInt(2_000) - 600);
          case 1 -> {
            while (!raft.pending.isEmpty()) {
              raft.applyNext();
            }
          }
          default -> {
            int count = rnd.nextInt(10) == 0 ? (int) Timestamps.LOGICAL_LIMIT - rnd.nextInt(3) : 1 + rnd.nextInt(1_000);
            open.add(tso.alloc(term, count));
            counts.add(count);
          }
        }
        for (int i = 0; i < open.size(); i++) {
          if (open.get(i).isDone()) {
            handedOut.add(new long[] {open.get(i).join(), counts.get(i), raft.saved});
            open.remove(i);
            counts.remove(i);
            i--;
          }
        }
      }
      // The leader is deposed. Each save it left in flight is committed later (in log order, before
      // the next leader's) or lost. Its open requests are dropped: they overlap the next leader's.
      while (!raft.pending.isEmpty()) {
        if (rnd.nextBoolean()) {
          raft.applyNext();
        } else {
          raft.failNext();
        }
      }
    }
    long prevLeaderMax = -1;
    int total = 0;
    for (List<long[]> handedOut : byLeader) {
      handedOut.sort((x, y) -> Long.compare(x[0], y[0]));
      long prevLast = prevLeaderMax;
      for (long[] h : handedOut) {
        long first = h[0];
        long last = first + h[1] - 1;
        assertThat(first).as("no timestamp twice, and after every earlier leader's").isGreaterThan(prevLast);
        assertThat(Timestamps.physicalMs(last)).as("one ms per request").isEqualTo(Timestamps.physicalMs(first));
        assertThat(Timestamps.physicalMs(first)).as("below the saved bound").isLessThan(h[2]);
        prevLast = last;
      }
      prevLeaderMax = prevLast;
      total += handedOut.size();
    }
    assertThat(total).as("progress").isGreaterThan(1_000);
  }
}
