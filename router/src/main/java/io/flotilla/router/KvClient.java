package io.flotilla.router;

import io.flotilla.engine.client.PdClient;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The router client, blocking: each method returns when the cluster answered, or throws a {@link
 * KvException} (unchecked; see there for what each kind means) within the configured deadline.
 * Everything in {@link AsyncKvClient}'s description holds here: routing, retries, write
 * de-duplication, per-region atomicity of batches.
 *
 * <pre>{@code
 * try (KvClient kv = KvClient.connect(RouterConfig.defaults(List.of(pd)))) {
 *   kv.put("k", "v");
 *   for (KvEntry e : kv.scan("a", "z", 100)) { ... }
 * }
 * }</pre>
 *
 * <p>Threads: any thread.
 */
public final class KvClient implements AutoCloseable {

  private final AsyncKvClient async;

  /** A blocking view of {@code async}; closing it closes {@code async}. */
  public KvClient(AsyncKvClient async) {
    this.async = async;
  }

  /** A client on {@code pd} calling stores through {@code rpc} (for tests and embedding). */
  public KvClient(RouterConfig config, PdClient pd, StoreRpc rpc) {
    this(new AsyncKvClient(config, pd, rpc));
  }

  /** A client on {@code pd} with its own RPC connections. */
  public KvClient(RouterConfig config, PdClient pd) {
    this(new AsyncKvClient(config, pd));
  }

  /** A client of the cluster whose PD members are {@code config.pdAddresses()}. */
  public static KvClient connect(RouterConfig config) {
    return new KvClient(AsyncKvClient.connect(config));
  }

  public AsyncKvClient async() {
    return async;
  }

  /** The value of {@code key}, or null if it is absent. */
  public byte[] get(byte[] key) {
    return await(async.get(key), false);
  }

  public String get(String key) {
    return await(async.get(key), false);
  }

  public void put(byte[] key, byte[] value) {
    await(async.put(key, value), true);
  }

  public void put(String key, String value) {
    await(async.put(key, value), true);
  }

  public void delete(byte[] key) {
    await(async.delete(key), true);
  }

  public void delete(String key) {
    await(async.delete(key), true);
  }

  /** See {@link AsyncKvClient#compareAndSet(byte[], byte[], byte[])}. */
  public CasResult compareAndSet(byte[] key, byte[] expected, byte[] newValue) {
    return await(async.compareAndSet(key, expected, newValue), true);
  }

  public CasResult compareAndSet(String key, String expected, String newValue) {
    return await(async.compareAndSet(key, expected, newValue), true);
  }

  /** The present keys' values, in key order; see {@link AsyncKvClient#batchGet}. */
  public SortedMap<byte[], byte[]> batchGet(Collection<byte[]> keys) {
    return await(async.batchGet(keys), false);
  }

  public Map<String, String> batchGetStrings(Collection<String> keys) {
    return await(async.batchGetStrings(keys), false);
  }

  /** Atomic per region only; see {@link AsyncKvClient#batchPut}. */
  public void batchPut(Map<byte[], byte[]> entries) {
    await(async.batchPut(entries), true);
  }

  public void batchPutStrings(Map<String, String> entries) {
    await(async.batchPutStrings(entries), true);
  }

  /** Deletes [{@code from}, {@code to}); see {@link AsyncKvClient#deleteRange}. */
  public void deleteRange(byte[] from, byte[] to) {
    await(async.deleteRange(from, to), true);
  }

  public void deleteRange(String from, String to) {
    await(async.deleteRange(from, to), true);
  }

  /**
   * Keys in [{@code from}, {@code to}) ascending, at most {@code limit} ({@code <= 0}: all), fetched
   * a page at a time as the iteration goes; each {@code iterator()} is a new scan. The iterator's
   * {@code hasNext()} throws the {@link KvException} a page failed with.
   */
  public Iterable<KvEntry> scan(byte[] from, byte[] to, int limit) {
    return () -> new PageIterator(async.scan(from, to, limit));
  }

  public Iterable<KvEntry> scan(String from, String to, int limit) {
    return scan(bytes(from), bytes(to), limit);
  }

  /** Keys in [{@code from}, {@code to}) descending, at most {@code limit}. */
  public Iterable<KvEntry> reverseScan(byte[] from, byte[] to, int limit) {
    return () -> new PageIterator(async.reverseScan(from, to, limit));
  }

  public Iterable<KvEntry> reverseScan(String from, String to, int limit) {
    return reverseScan(bytes(from), bytes(to), limit);
  }

  /** A scan's entries as a list (keep {@code limit} small enough for memory). */
  public List<KvEntry> scanToList(byte[] from, byte[] to, int limit) {
    return await(async.scan(from, to, limit).toList(), false);
  }

  @Override
  public void close() {
    async.close();
  }

  private static byte[] bytes(String s) {
    return s == null ? null : s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * Waits for {@code f}, rethrowing the KvException it failed with. The future always completes
   * by the deadline; the extra wait only guards against a bug.
   */
  private <T> T await(CompletableFuture<T> f, boolean write) {
    long waitMs = async.config().timeout().toMillis() + 5_000;
    try {
      return f.get(waitMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = RegionCall.unwrap(e);
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new KvException(cause.toString(), cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw write
          ? new OutcomeUnknownException("interrupted while waiting for a write; it may still be"
              + " applied", e)
          : new KvException("interrupted while waiting for a read", e);
    } catch (TimeoutException e) {
      throw write
          ? new OutcomeUnknownException("no answer to a write within " + waitMs + " ms", e)
          : new DeadlineExceededException("no answer within " + waitMs + " ms", e);
    }
  }

  /** Pulls pages from an {@link AsyncScanner} as the caller iterates. */
  private final class PageIterator implements Iterator<KvEntry> {
    private final AsyncScanner scanner;
    private final ArrayDeque<KvEntry> buffer = new ArrayDeque<>();

    PageIterator(AsyncScanner scanner) {
      this.scanner = scanner;
    }

    @Override
    public boolean hasNext() {
      while (buffer.isEmpty()) {
        if (scanner.isDone()) {
          return false;
        }
        List<KvEntry> page = await(scanner.nextPage(), false);
        if (page.isEmpty()) {
          return false;
        }
        buffer.addAll(page);
      }
      return true;
    }

    @Override
    public KvEntry next() {
      if (!hasNext()) {
        throw new NoSuchElementException("the scan is over");
      }
      return buffer.poll();
    }
  }
}
