package io.flotilla.router;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.flotilla.engine.Threads;
import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.CompareAndSet;
import io.flotilla.engine.proto.Delete;
import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.Put;
import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.router.Requests.WriteOutcome;
import io.flotilla.router.cache.Keys;
import io.flotilla.router.cache.RegionCache;
import io.flotilla.router.cache.RegionLocator;
import io.flotilla.router.cache.StoreAddresses;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The router client, asynchronous: every call returns a future that completes with the answer or
 * fails with a {@link KvException} (see there for what each kind means) within the configured
 * deadline. Requests go straight to the leader of the region holding their key, found in a region
 * cache that PD fills and that store errors repair; failures are retried with jittered exponential
 * backoff until the deadline.
 *
 * <p>Keys and values are copied on the way in and out. Keys compare as unsigned bytes; a range
 * bound of length 0 (or null) is unbounded. Values of a key that is absent are {@code null}.
 *
 * <p>Writes carry this client's random 64-bit id and a sequence number that increases per client;
 * a retry reuses its sequence number, so a store applies a write once even if an earlier attempt
 * was applied without the client hearing of it. A write that may or may not have been applied
 * fails with {@link OutcomeUnknownException}, never with a plain failure.
 *
 * <p>Multi-key calls split their keys by region and send one request per region, in parallel.
 * {@link #batchPut} is atomic per region only: if it fails after some regions were written it
 * fails with {@link OutcomeUnknownException}, and readers may see some regions' puts before
 * others'. The same holds for {@link #deleteRange}, which visits the regions one after another.
 *
 * <p>Threads: any thread. Futures complete on router threads ({@code flotilla-router-*}): use
 * the {@code *Async} stages for slow or blocking work.
 */
public final class AsyncKvClient implements AutoCloseable {

  private final RouterContext ctx;
  private final Limits limits;
  private final List<AutoCloseable> owned;
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * A client on {@code pd} that calls stores through {@code rpc}. Neither is closed by {@link
   * #close}.
   */
  public AsyncKvClient(RouterConfig config, PdClient pd, StoreRpc rpc) {
    this(config, pd, rpc, List.of());
  }

  /** A client on {@code pd} (not closed by {@link #close}) with its own RPC connections. */
  public AsyncKvClient(RouterConfig config, PdClient pd) {
    this(config, pd, new RpcClient(TransportConfig.defaults()));
  }

  private AsyncKvClient(RouterConfig config, PdClient pd, RpcClient rpc) {
    this(config, pd, rpc::call, List.of(rpc));
  }

  private AsyncKvClient(RouterConfig config, PdClient pd, StoreRpc rpc,
      List<AutoCloseable> owned) {
    config.validate();
    if (pd == null || rpc == null) {
      throw new IllegalArgumentException("a PdClient and a StoreRpc are required");
    }
    ExecutorService executor = Executors.newFixedThreadPool(config.threads(),
        daemonThreads("flotilla-router-"));
    ScheduledThreadPoolExecutor scheduler =
        new ScheduledThreadPoolExecutor(1, daemonThreads("flotilla-router-timer-"));
    // NB: every call schedules its deadline and cancels it when done; without this the queue
    // would hold a deadline's worth of cancelled timers.
    scheduler.setRemoveOnCancelPolicy(true);
    RegionCache cache = new RegionCache();
    this.ctx = new RouterContext(config, cache, new RegionLocator(cache, pd),
        new StoreAddresses(pd, executor), rpc, executor, scheduler, newClientId(),
        ConcurrentHashMap.newKeySet(), new PendingSeqs());
    this.limits = new Limits(config);
    this.owned = owned;
  }

  /**
   * A client of the cluster whose PD members are {@code config.pdAddresses()}, with its own PD
   * client and RPC connections, closed by {@link #close}.
   */
  public static AsyncKvClient connect(RouterConfig config) {
    config.validate();
    PdClient pd = RemotePdClients.create(config.pdAddresses(), config.timeout());
    RpcClient rpc;
    try {
      rpc = new RpcClient(TransportConfig.defaults());
    } catch (RuntimeException e) {
      pd.close();
      throw e;
    }
    return new AsyncKvClient(config, pd, rpc::call, List.of(rpc, pd));
  }

  /** This client's id in the (client id, seq) of its writes. */
  public long clientId() {
    return ctx.clientId();
  }

  public RouterConfig config() {
    return ctx.config();
  }

  // ---- reads ----

  /** The value of {@code key}, or null if it is absent. */
  public CompletableFuture<byte[]> get(byte[] key) {
    return start(() -> {
      limits.checkKey(key);
      return RegionCall.run(ctx, new Requests.Get(key.clone()), deadline());
    });
  }

  public CompletableFuture<String> get(String key) {
    return get(utf8(key)).thenApply(v -> v == null ? null : new String(v, UTF_8));
  }

  /**
   * The values of those {@code keys} that are present, in key order (a map that compares keys by
   * content, so {@code get(byte[])} works on it).
   */
  public CompletableFuture<SortedMap<byte[], byte[]>> batchGet(Collection<byte[]> keys) {
    return start(() -> {
      TreeSet<byte[]> unique = new TreeSet<>(Keys.ORDER);
      long bytes = 0;
      for (byte[] k : keys) {
        limits.checkKey(k);
        if (unique.add(k.clone())) {
          bytes += k.length;
        }
      }
      limits.checkBatch(bytes, unique.size(), "batch get");
      if (unique.isEmpty()) {
        return CompletableFuture.completedFuture(new TreeMap<>(Keys.ORDER));
      }
      return batchGetParts(new ArrayList<>(unique), deadline()).thenApply(pairs -> {
        SortedMap<byte[], byte[]> out = new TreeMap<>(Keys.ORDER);
        for (KvPair p : pairs) {
          out.put(p.getKey().toByteArray(), p.getValue().toByteArray());
        }
        return out;
      });
    });
  }

  /** Like {@link #batchGet}, UTF-8 strings. */
  public CompletableFuture<Map<String, String>> batchGetStrings(Collection<String> keys) {
    List<byte[]> raw = keys.stream().map(AsyncKvClient::utf8).toList();
    return batchGet(raw).thenApply(found -> {
      Map<String, String> out = new TreeMap<>();
      found.forEach((k, v) -> out.put(new String(k, UTF_8), new String(v, UTF_8)));
      return out;
    });
  }

  /**
   * Keys in [{@code from}, {@code to}) in ascending order, at most {@code limit} of them ({@code
   * limit <= 0}: all), fetched page by page.
   */
  public AsyncScanner scan(byte[] from, byte[] to, int limit) {
    return scanner(from, to, limit, false);
  }

  /** Keys in [{@code from}, {@code to}) in descending order, at most {@code limit}. */
  public AsyncScanner reverseScan(byte[] from, byte[] to, int limit) {
    return scanner(from, to, limit, true);
  }

  private AsyncScanner scanner(byte[] from, byte[] to, int limit, boolean reverse) {
    byte[] f = from == null ? Keys.EMPTY : from.clone();
    byte[] t = to == null ? Keys.EMPTY : to.clone();
    limits.checkBound(f, "from");
    limits.checkBound(t, "to");
    return new AsyncScanner(ctx, f, t, reverse, limit);
  }

  // ---- writes ----

  public CompletableFuture<Void> put(byte[] key, byte[] value) {
    return start(() -> {
      limits.checkKey(key);
      limits.checkValue(key, value);
      Mutation m = Mutation.newBuilder().setPut(Put.newBuilder()
          .setKey(Requests.bytes(key.clone())).setValue(Requests.bytes(value.clone()))).build();
      return write(key, m, "put " + Keys.describe(key)).thenApply(outcome -> null);
    });
  }

  public CompletableFuture<Void> put(String key, String value) {
    return put(utf8(key), utf8(value));
  }

  /** Deletes {@code key}; deleting an absent key succeeds. */
  public CompletableFuture<Void> delete(byte[] key) {
    return start(() -> {
      limits.checkKey(key);
      Mutation m = Mutation.newBuilder().setDelete(Delete.newBuilder()
          .setKey(Requests.bytes(key.clone()))).build();
      return write(key, m, "delete " + Keys.describe(key)).thenApply(outcome -> null);
    });
  }

  public CompletableFuture<Void> delete(String key) {
    return delete(utf8(key));
  }

  /**
   * Sets {@code key} to {@code newValue} (null: deletes it) if its value is {@code expected}
   * (null: if it is absent). The base of locks: {@code compareAndSet(lock, null, me)} takes one.
   */
  public CompletableFuture<CasResult> compareAndSet(byte[] key, byte[] expected,
      byte[] newValue) {
    return start(() -> {
      limits.checkKey(key);
      if (expected != null) {
        limits.checkValue(key, expected);
      }
      if (newValue != null) {
        limits.checkValue(key, newValue);
      }
      CompareAndSet.Builder cas = CompareAndSet.newBuilder()
          .setKey(Requests.bytes(key.clone()))
          .setExpectAbsent(expected == null)
          .setDelete(newValue == null);
      if (expected != null) {
        cas.setExpected(Requests.bytes(expected.clone()));
      }
      if (newValue != null) {
        cas.setNewValue(Requests.bytes(newValue.clone()));
      }
      byte[] written = newValue == null ? null : newValue.clone();
      return write(key, Mutation.newBuilder().setCas(cas).build(),
          "compare-and-set " + Keys.describe(key))
          .thenApply(outcome -> outcome.succeeded()
              ? new CasResult(true, written)
              : new CasResult(false, outcome.currentFound() ? outcome.currentValue() : null));
    });
  }

  public CompletableFuture<CasResult> compareAndSet(String key, String expected,
      String newValue) {
    return compareAndSet(utf8(key), expected == null ? null : utf8(expected),
        newValue == null ? null : utf8(newValue));
  }

  /**
   * Puts every entry (a map comparing byte[] keys by content, e.g. a {@code TreeMap} with {@link
   * Keys#ORDER}, or any map of distinct keys). Atomic per region only; see the class comment.
   */
  public CompletableFuture<Void> batchPut(Map<byte[], byte[]> entries) {
    return start(() -> {
      TreeMap<byte[], byte[]> sorted = new TreeMap<>(Keys.ORDER);
      for (Map.Entry<byte[], byte[]> e : entries.entrySet()) {
        limits.checkKey(e.getKey());
        limits.checkValue(e.getKey(), e.getValue());
        sorted.put(e.getKey().clone(), e.getValue().clone());
      }
      long bytes = 0;
      for (Map.Entry<byte[], byte[]> e : sorted.entrySet()) {
        bytes += e.getKey().length + e.getValue().length;
      }
      limits.checkBatch(bytes, sorted.size(), "batch put");
      if (sorted.isEmpty()) {
        return CompletableFuture.completedFuture(null);
      }
      return new BatchWriter(ctx, sorted, deadline()).run();
    });
  }

  /** Like {@link #batchPut}, UTF-8 strings. */
  public CompletableFuture<Void> batchPutStrings(Map<String, String> entries) {
    Map<byte[], byte[]> raw = new TreeMap<>(Keys.ORDER);
    entries.forEach((k, v) -> raw.put(utf8(k), utf8(v)));
    return batchPut(raw);
  }

  /**
   * Deletes every key in [{@code from}, {@code to}) ({@code to} empty or null: to the end), region
   * by region. Not atomic across regions; see the class comment.
   */
  public CompletableFuture<Void> deleteRange(byte[] from, byte[] to) {
    return start(() -> {
      byte[] f = from == null ? Keys.EMPTY : from.clone();
      byte[] t = to == null ? Keys.EMPTY : to.clone();
      limits.checkBound(f, "from");
      limits.checkBound(t, "to");
      if (t.length != 0 && Keys.compare(f, t) >= 0) {
        return CompletableFuture.completedFuture(null);
      }
      return deleteRangeFrom(f, t, deadline(), false);
    });
  }

  public CompletableFuture<Void> deleteRange(String from, String to) {
    return deleteRange(from == null ? null : utf8(from), to == null ? null : utf8(to));
  }

  /**
   * Ends the calls in flight (a write that was sent fails with {@link OutcomeUnknownException},
   * anything else with {@link KvException}), stops the router threads and closes what {@link
   * #connect} opened. Later calls fail. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    ctx.executor().shutdown();
    ctx.scheduler().shutdownNow();
    for (RegionCall<?> call : List.copyOf(ctx.inFlight())) {
      call.abort();
    }
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        org.slf4j.LoggerFactory.getLogger(AsyncKvClient.class)
            .warn("Closing {} failed: {}", c, e.toString());
      }
    }
    try {
      ctx.executor().awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- for tests in this package ----

  RouterContext context() {
    return ctx;
  }

  // ---- internals ----

  private long deadline() {
    return System.nanoTime() + ctx.config().timeout().toNanos();
  }

  private CompletableFuture<WriteOutcome> write(byte[] key, Mutation m, String description) {
    return RegionCall.run(ctx, new Requests.Write(List.of(key.clone()), List.of(m), description),
        deadline());
  }

  private CompletableFuture<List<KvPair>> batchGetParts(List<byte[]> sortedKeys, long deadline) {
    return RegionGroups.of(ctx.locator(), sortedKeys).thenCompose(groups -> {
      List<CompletableFuture<List<KvPair>>> parts = new ArrayList<>();
      for (List<byte[]> group : groups) {
        parts.add(RegionCall.run(ctx, new Requests.BatchGet(group), deadline)
            .exceptionallyCompose(e -> RegionCall.unwrap(e) instanceof RegionChangedException
                ? batchGetParts(group, deadline)
                : CompletableFuture.failedFuture(RegionCall.unwrap(e))));
      }
      return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
        List<KvPair> all = new ArrayList<>();
        for (CompletableFuture<List<KvPair>> p : parts) {
          all.addAll(p.join());
        }
        return all;
      });
    });
  }

  private CompletableFuture<Void> deleteRangeFrom(byte[] cursor, byte[] to, long deadline,
      boolean someDone) {
    return RegionCall.run(ctx, new Requests.DeleteRangePiece(cursor, to), deadline)
        .handle((region, error) -> {
          if (error != null) {
            Throwable e = RegionCall.unwrap(error);
            if (someDone && !(e instanceof OutcomeUnknownException)) {
              return CompletableFuture.<Void>failedFuture(new OutcomeUnknownException(
                  "delete range failed after deleting a part of it: " + e.getMessage(), e));
            }
            return CompletableFuture.<Void>failedFuture(e);
          }
          if (Keys.endCovers(region.endKey(), to)) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          return deleteRangeFrom(region.endKey(), to, deadline, true);
        })
        .thenCompose(f -> f);
  }

  /**
   * Runs {@code call}, turning what it throws (bad arguments, limits) into a failed future, so the
   * async API fails only through its futures.
   */
  private static <T> CompletableFuture<T> start(
      java.util.function.Supplier<CompletableFuture<T>> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static byte[] utf8(String s) {
    if (s == null) {
      throw new IllegalArgumentException("key and value strings must not be null");
    }
    return s.getBytes(UTF_8);
  }

  private static long newClientId() {
    SecureRandom random = new SecureRandom();
    long id;
    do {
      id = random.nextLong();
    } while (id == 0);
    return id;
  }

  private static ThreadFactory daemonThreads(String prefix) {
    return Threads.numbered(prefix.endsWith("-") ? prefix.substring(0, prefix.length() - 1) : prefix);
  }
}
