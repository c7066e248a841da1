package io.flotilla.bench.kv;

import io.flotilla.bench.BenchException;
import io.flotilla.engine.Threads;
import io.flotilla.router.AsyncKvClient;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The load phase: writes every key of the key space once, in key order, with batch puts of up to
 * {@link #MAX_CHUNK_KEYS} keys (and about {@link #MAX_CHUNK_BYTES}), {@code lanes} of them in
 * flight, printing progress every second. A batch that fails is retried (writing the same values
 * again is harmless) up to {@link #ATTEMPTS} times in all; then the phase fails.
 *
 * <p>Threads: {@link #run} on the caller's thread; batches complete on the router's threads and
 * the next is issued from a scheduler thread, so completions never recurse.
 */
final class Loader {
  static final int MAX_CHUNK_KEYS = 1_000;
  static final int MAX_CHUNK_BYTES = 1 << 20;
  static final int ATTEMPTS = 3;
  private static final long RETRY_DELAY_MS = 100;

  /** What the phase did: keys written and how long it took. */
  record Result(long keys, long nanos) {
    double keysPerSec() {
      return keys / (nanos / 1e9);
    }
  }

  private final AsyncKvClient client;
  private final long keys;
  private final int valueBytes;
  private final int lanes;
  private final int chunkKeys;
  private final long chunks;
  private final AtomicLong nextChunk = new AtomicLong();
  private final LongAdder written = new LongAdder();
  private final AtomicReference<String> failure = new AtomicReference<>();
  private final ScheduledExecutorService issuer = Executors.newSingleThreadScheduledExecutor(Threads.named("bench-kv-load"));
  private CountDownLatch lanesDone;

  Loader(AsyncKvClient client, long keys, int valueBytes, int lanes) {
    this.client = client;
    this.keys = keys;
    this.valueBytes = valueBytes;
    this.chunkKeys = chunkKeys(valueBytes);
    this.chunks = (keys + chunkKeys - 1) / chunkKeys;
    this.lanes = (int) Math.max(1, Math.min(lanes, chunks));
  }

  /** Keys per batch put: at most {@link #MAX_CHUNK_KEYS} and about {@link #MAX_CHUNK_BYTES}. */
  static int chunkKeys(int valueBytes) {
    return Math.max(1, Math.min(MAX_CHUNK_KEYS, MAX_CHUNK_BYTES / (valueBytes + KeySpace.keyBytes())));
  }

  /** Writes every key once; throws {@link BenchException} if a batch fails {@link #ATTEMPTS} times. */
  Result run(PrintWriter out) {
    long start = System.nanoTime();
    lanesDone = new CountDownLatch(lanes);
    try {
      for (int i = 0; i < lanes; i++) {
        issuer.execute(this::nextChunk);
      }
      long nextTick = start + TimeUnit.SECONDS.toNanos(1);
      long last = start;
      long lastWritten = 0;
      while (!await(nextTick - System.nanoTime())) {
        long now = System.nanoTime();
        long w = written.sum();
        out.printf(Locale.ROOT, "load %5.1fs  %,d of %,d keys (%.0f%%)  %,.0f keys/s%n", (now - start) / 1e9, w, keys,
            100.0 * w / keys, (w - lastWritten) / ((now - last) / 1e9));
        last = now;
        lastWritten = w;
        nextTick += TimeUnit.SECONDS.toNanos(1);
      }
    } finally {
      issuer.shutdownNow();
    }
    if (failure.get() != null) {
      throw new BenchException("the load phase failed: " + failure.get());
    }
    return new Result(written.sum(), System.nanoTime() - start);
  }

  private boolean await(long nanos) {
    try {
      return lanesDone.await(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    }
  }

  private void nextChunk() {
    long chunk = nextChunk.getAndIncrement();
    if (chunk >= chunks || failure.get() != null) {
      lanesDone.countDown();
      return;
    }
    put(chunk, 1);
  }

  private void put(long chunk, int attempt) {
    long first = chunk * chunkKeys;
    long end = Math.min(keys, first + chunkKeys);
    SplittableRandom random = new SplittableRandom(chunk * 31 + attempt);
    Map<byte[], byte[]> entries = new TreeMap<>(Arrays::compareUnsigned);
    for (long i = first; i < end; i++) {
      byte[] value = new byte[valueBytes];
      random.nextBytes(value);
      entries.put(KeySpace.key(i), value);
    }
    client.batchPut(entries).whenComplete((v, e) -> {
      if (e == null) {
        written.add(end - first);
        schedule(this::nextChunk, 0);
      } else if (attempt < ATTEMPTS) {
        schedule(() -> put(chunk, attempt + 1), RETRY_DELAY_MS);
      } else {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        failure.compareAndSet(null, "a batch put of keys " + KeySpace.name(first) + " to " + KeySpace.name(end - 1)
            + " failed " + ATTEMPTS + " times, last: " + cause);
        lanesDone.countDown();
      }
    });
  }

  private void schedule(Runnable r, long delayMs) {
    try {
      issuer.schedule(r, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopped) {
      lanesDone.countDown();
    }
  }
}
