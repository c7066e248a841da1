package io.flotilla.pd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.Timestamps;
import io.flotilla.engine.client.PdClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads that ask PD for timestamps one after another (each waits for its answer) through the
 * given clients, recording each call's real-time interval, and the check of what they got: unique,
 * and linearizable (a call that began after another ended got a greater timestamp).
 */
final class TsoLoad implements AutoCloseable {
  /** One answered call: when it began and ended (System.nanoTime), and what it got. */
  record Op(long startNanos, long endNanos, long ts) {}

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();
  private final AtomicInteger failures = new AtomicInteger();
  private final List<Thread> threads = new ArrayList<>();
  private final List<List<Long>> perThread = new ArrayList<>();
  private final int perThreadLimit;

  /** {@code threadsPerClient} threads on each client, each making at most {@code perThreadLimit} calls. */
  TsoLoad(List<? extends PdClient> clients, int threadsPerClient, int perThreadLimit) {
    this.perThreadLimit = perThreadLimit;
    for (PdClient c : clients) {
      for (int i = 0; i < threadsPerClient; i++) {
        List<Long> mine = new ArrayList<>();
        perThread.add(mine);
        Thread t = new Thread(() -> run(c, mine), "tso-load-" + threads.size());
        t.setDaemon(true);
        threads.add(t);
      }
    }
    threads.forEach(Thread::start);
  }

  private void run(PdClient client, List<Long> mine) {
    while (running.get() && mine.size() < perThreadLimit) {
      long start = System.nanoTime();
      CompletableFuture<Long> f = client.getTimestamp();
      try {
        long ts = f.get(20, TimeUnit.SECONDS);
        ops.add(new Op(start, System.nanoTime(), ts));
        synchronized (mine) {
          mine.add(ts);
        }
      } catch (Exception e) {
        failures.incrementAndGet(); // e.g. a call that met the kill and ran out of retries
      }
    }
  }

  int answered() {
    return ops.size();
  }

  int failures() {
    return failures.get();
  }

  /** Waits until {@code n} calls that began after {@code sinceNanos} were answered. */
  void awaitAnsweredSince(long sinceNanos, int n) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
        .until(() -> ops.stream().filter(o -> o.startNanos() > sinceNanos).count() >= n);
  }

  /** The smallest timestamp of the calls that began after {@code sinceNanos}. */
  long minSince(long sinceNanos) {
    return ops.stream().filter(o -> o.startNanos() > sinceNanos).mapToLong(Op::ts).min().orElseThrow();
  }

  /** Waits for every thread to make its calls (or be stopped). */
  void join() throws InterruptedException {
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    join();
  }

  /** Every timestamp unique; each thread's increasing; one that began after another ended greater. */
  void check() {
    List<Op> all = new ArrayList<>(ops);
    Set<Long> seen = new HashSet<>();
    for (Op o : all) {
      assertThat(seen.add(o.ts())).as("timestamp %s handed out twice", Timestamps.toString(o.ts())).isTrue();
    }
    for (List<Long> mine : perThread) {
      synchronized (mine) {
        assertThat(mine).as("one caller's timestamps").isSorted();
      }
    }
    List<Op> byStart = new ArrayList<>(all);
    byStart.sort(Comparator.comparingLong(Op::startNanos));
    List<Op> byEnd = new ArrayList<>(all);
    byEnd.sort(Comparator.comparingLong(Op::endNanos));
    int ended = 0;
    Op maxEnded = null;
    for (Op b : byStart) {
      while (ended < byEnd.size() && byEnd.get(ended).endNanos() < b.startNanos()) {
        Op a = byEnd.get(ended++);
        if (maxEnded == null || a.ts() > maxEnded.ts()) {
          maxEnded = a;
        }
      }
      if (maxEnded != null) {
        assertThat(b.ts()).as("a call that began after one answered %s got %s", Timestamps.toString(maxEnded.ts()),
            Timestamps.toString(b.ts())).isGreaterThan(maxEnded.ts());
      }
    }
  }
}
