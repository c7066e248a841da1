package io.flotilla.bench.kv;

import io.flotilla.engine.Threads;
import io.flotilla.router.AsyncKvClient;
import io.flotilla.router.DeadlineExceededException;
import io.flotilla.router.OutcomeUnknownException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Closed-loop gets and puts: a fixed number of slots, each with one operation in flight; when it
 * completes the slot issues the next at once. An operation is a get with probability {@code
 * readRatio}, else a put of a fresh random value, on a key drawn uniformly from the key space.
 * Latency (call to completion of its future, the router's own retries included) of the operations
 * that succeed goes to one HdrHistogram {@link Recorder} for gets and one for puts, in microseconds.
 *
 * <p>A failed operation is counted by kind ({@link Errors}) and its slot pauses 1 ms before the
 * next, so that a cluster failing every call at once does not make the slots spin.
 *
 * <p>Threads: {@link #start} and {@link #stop} from one owner; completions on the router's threads;
 * the counters and recorders from any thread.
 */
final class KvLoadGenerator {
  /** Latencies above one hour are recorded as one hour. */
  static final long MAX_LATENCY_MICROS = TimeUnit.HOURS.toMicros(1);

  /**
   * Failed operations by kind; monotonic, {@link #minus} gives an interval's.
   *
   * @param outcomeUnknown puts whose outcome is unknown ({@link OutcomeUnknownException})
   * @param deadline calls that got no answer within the router's deadline ({@link DeadlineExceededException})
   * @param other any other failure (region unavailable, a bug)
   */
  record Errors(long outcomeUnknown, long deadline, long other) {
    static final Errors ZERO = new Errors(0, 0, 0);

    long total() {
      return outcomeUnknown + deadline + other;
    }

    Errors minus(Errors o) {
      return new Errors(outcomeUnknown - o.outcomeUnknown, deadline - o.deadline, other - o.other);
    }
  }

  private final AsyncKvClient client;
  private final long keys;
  private final double readRatio;
  private final int valueBytes;
  private final Recorder reads = new Recorder(MAX_LATENCY_MICROS, 3);
  private final Recorder writes = new Recorder(MAX_LATENCY_MICROS, 3);
  private final LongAdder readsNotFound = new LongAdder();
  private final LongAdder outcomeUnknown = new LongAdder();
  private final LongAdder deadline = new LongAdder();
  private final LongAdder other = new LongAdder();
  private final AtomicReference<String> firstError = new AtomicReference<>();
  private final AtomicInteger activeSlots = new AtomicInteger();
  private final ScheduledExecutorService pauses = Executors.newSingleThreadScheduledExecutor(Threads.named("bench-kv-pause"));
  private volatile boolean stopping;

  KvLoadGenerator(AsyncKvClient client, long keys, double readRatio, int valueBytes) {
    this.client = client;
    this.keys = keys;
    this.readRatio = readRatio;
    this.valueBytes = valueBytes;
  }

  /** Starts {@code slots} slots; each keeps one operation in flight until {@link #stop}. */
  void start(int slots) {
    for (int i = 0; i < slots; i++) {
      activeSlots.incrementAndGet();
      run();
    }
  }

  /**
   * Stops issuing operations and waits up to {@code drain} for those in flight to complete.
   *
   * @return the number of slots still waiting on an operation
   */
  int stop(Duration drain) {
    stopping = true;
    long end = System.nanoTime() + drain.toNanos();
    while (activeSlots.get() > 0 && System.nanoTime() - end < 0) {
      KvTarget.sleepMillis(5);
    }
    pauses.shutdownNow();
    return activeSlots.get();
  }

  /** Get latencies recorded since the last call (or the start), microseconds. */
  Histogram readInterval() {
    return reads.getIntervalHistogram();
  }

  /** Put latencies recorded since the last call (or the start), microseconds. */
  Histogram writeInterval() {
    return writes.getIntervalHistogram();
  }

  Errors errors() {
    return new Errors(outcomeUnknown.sum(), deadline.sum(), other.sum());
  }

  /** Gets that succeeded and found no value (none, after the load phase). */
  long readsNotFound() {
    return readsNotFound.sum();
  }

  /** The message of the first failure, or null. */
  String firstError() {
    return firstError.get();
  }

  /**
   * Issues operations for one slot until one is in flight. NB: a future that is complete when
   * returned (a call rejected at once) is handled in this loop rather than in a callback, so a run
   * of them cannot recurse.
   */
  private void run() {
    while (!stopping) {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      byte[] key = KeySpace.key(random.nextLong(keys));
      boolean read = random.nextDouble() < readRatio;
      long start = System.nanoTime();
      CompletableFuture<?> f;
      if (read) {
        f = client.get(key);
      } else {
        byte[] value = new byte[valueBytes];
        random.nextBytes(value);
        f = client.put(key, value);
      }
      if (!f.isDone()) {
        f.whenComplete((v, e) -> {
          if (completed(read, start, v, e)) {
            run();
          }
        });
        return;
      }
      Object v = null;
      Throwable error = null;
      try {
        v = f.join();
      } catch (CompletionException | CancellationException e) {
        error = e;
      }
      if (!completed(read, start, v, error)) {
        return;
      }
    }
    activeSlots.decrementAndGet();
  }

  /** Records an outcome; returns whether the slot goes on at once (else it pauses first). */
  private boolean completed(boolean read, long startNanos, Object value, Throwable error) {
    if (error == null) {
      long micros = Math.min(Math.max((System.nanoTime() - startNanos) / 1_000, 0), MAX_LATENCY_MICROS);
      if (read) {
        reads.recordValue(micros);
        if (value == null) {
          readsNotFound.increment();
        }
      } else {
        writes.recordValue(micros);
      }
      return true;
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof OutcomeUnknownException) {
      outcomeUnknown.increment();
    } else if (cause instanceof DeadlineExceededException) {
      deadline.increment();
    } else {
      other.increment();
    }
    firstError.compareAndSet(null, (read ? "get: " : "put: ") + cause);
    try {
      pauses.schedule(this::run, 1, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopped) {
      activeSlots.decrementAndGet();
    }
    return false;
  }
}
