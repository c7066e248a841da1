package io.flotilla.router;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.txn.LockInfo;
import io.flotilla.engine.proto.txn.MutationKind;
import io.flotilla.engine.proto.txn.TxnError;
import io.flotilla.engine.proto.txn.TxnMutation;
import io.flotilla.router.cache.Keys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transaction (see {@link TxnClient} for its isolation). Reads see the versions committed
 * before {@link #startTs()} and this transaction's own writes; writes are buffered here and sent
 * by {@link #commit()}: every key is prewritten (locked, region by region, in parallel), a commit
 * timestamp is taken, the primary key (the first in key order) is committed — the commit point —
 * and the other keys are committed in the background (a reader meeting one of their locks commits
 * it from the primary's record).
 *
 * <p>A read meeting a lock of an older transaction resolves it (asks its primary, then commits or
 * rolls the lock back) or, while its owner is alive, backs off and tries again until the deadline,
 * then fails with {@link KeyLockedException}.
 *
 * <p>After {@link #commit()} or {@link #rollback()} (or a failed commit) every call throws
 * {@link IllegalStateException}. {@link #close()} rolls back a transaction that did not commit.
 * Keys and values are copied. Threads: one thread at a time (or the async calls' futures).
 */
public final class Txn implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Txn.class);
  private static final int PAGE = 256;

  private enum State { ACTIVE, COMMITTING, COMMITTED, ROLLED_BACK, FAILED }

  private final TxnClient client;
  private final RouterContext ctx;
  private final long startTs;
  private final TreeMap<byte[], TxnMutation> writes = new TreeMap<>(Keys.ORDER);
  private long writeBytes;
  private volatile State state = State.ACTIVE;
  private volatile long commitTs;

  Txn(TxnClient client, long startTs) {
    this.client = client;
    this.ctx = client.ctx;
    this.startTs = startTs;
  }

  /** The snapshot this transaction reads. */
  public long startTs() {
    return startTs;
  }

  /** The commit timestamp, once {@link #commit()} succeeded (the start timestamp if it wrote nothing). */
  public long commitTs() {
    if (state != State.COMMITTED) {
      throw new IllegalStateException("transaction " + startTs + " is not committed (" + state + ")");
    }
    return commitTs;
  }

  // ------------------------------------------------------------------ reads

  public CompletableFuture<byte[]> getAsync(byte[] key) {
    return start(() -> {
      checkActive("get");
      client.limits.checkKey(key);
      TxnMutation mine = writes.get(key);
      if (mine != null) {
        return CompletableFuture.completedFuture(mine.getKind() == MutationKind.MUTATION_PUT
            ? mine.getValue().toByteArray() : null);
      }
      return readKey(key.clone(), client.deadline(), new Attempts());
    });
  }

  public byte[] get(byte[] key) {
    return client.await(getAsync(key), false);
  }

  public String get(String key) {
    byte[] v = get(utf8(key));
    return v == null ? null : new String(v, UTF_8);
  }

  /** The present values of {@code keys}, in key order (a map comparing keys by content). */
  public CompletableFuture<SortedMap<byte[], byte[]>> batchGetAsync(Collection<byte[]> keys) {
    return start(() -> {
      checkActive("batch get");
      SortedMap<byte[], byte[]> out = new TreeMap<>(Keys.ORDER);
      TreeSet<byte[]> remote = new TreeSet<>(Keys.ORDER);
      for (byte[] k : keys) {
        client.limits.checkKey(k);
        TxnMutation mine = writes.get(k);
        if (mine == null) {
          remote.add(k.clone());
        } else if (mine.getKind() == MutationKind.MUTATION_PUT) {
          out.put(k.clone(), mine.getValue().toByteArray());
        }
      }
      if (remote.isEmpty()) {
        return CompletableFuture.completedFuture(out);
      }
      return batchGetParts(new ArrayList<>(remote), client.deadline()).thenApply(pairs -> {
        for (KvPair p : pairs) {
          out.put(p.getKey().toByteArray(), p.getValue().toByteArray());
        }
        return out;
      });
    });
  }

  public SortedMap<byte[], byte[]> batchGet(Collection<byte[]> keys) {
    return client.await(batchGetAsync(keys), false);
  }

  /**
   * Keys in [{@code from}, {@code to}) ({@code to} empty: to the end) at this snapshot with this
   * transaction's writes applied, ascending, at most {@code limit} ({@code <= 0}: all).
   */
  public CompletableFuture<List<KvEntry>> scanAsync(byte[] from, byte[] to, int limit) {
    return start(() -> {
      checkActive("scan");
      byte[] f = from == null ? Keys.EMPTY : from.clone();
      byte[] t = to == null ? Keys.EMPTY : to.clone();
      client.limits.checkBound(f, "from");
      client.limits.checkBound(t, "to");
      SortedMap<byte[], TxnMutation> mine = t.length == 0 ? writes.tailMap(f) : writes.subMap(f, t);
      // NB: buffered deletes may hide fetched keys: fetch that many more.
      int want = limit <= 0 ? 0 : limit + mine.size();
      TreeMap<byte[], byte[]> merged = new TreeMap<>(Keys.ORDER);
      return scanFrom(f, t, want, merged, client.deadline(), new Attempts()).thenApply(v -> {
        for (Map.Entry<byte[], TxnMutation> e : mine.entrySet()) {
          if (e.getValue().getKind() == MutationKind.MUTATION_PUT) {
            merged.put(e.getKey(), e.getValue().getValue().toByteArray());
          } else if (e.getValue().getKind() == MutationKind.MUTATION_DELETE) {
            merged.remove(e.getKey());
          }
        }
        List<KvEntry> out = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> e : merged.entrySet()) {
          if (limit > 0 && out.size() == limit) {
            break;
          }
          out.add(new KvEntry(e.getKey(), e.getValue()));
        }
        return out;
      });
    });
  }

  public List<KvEntry> scan(byte[] from, byte[] to, int limit) {
    return client.await(scanAsync(from, to, limit), false);
  }

  public List<KvEntry> scan(String from, String to, int limit) {
    return scan(from == null ? null : utf8(from), to == null ? null : utf8(to), limit);
  }

  // ------------------------------------------------------------------ writes (buffered)

  public void put(byte[] key, byte[] value) {
    checkActive("put");
    client.limits.checkKey(key);
    client.limits.checkValue(key, value);
    buffer(TxnMutation.newBuilder().setKind(MutationKind.MUTATION_PUT).setKey(Requests.bytes(key.clone()))
        .setValue(Requests.bytes(value.clone())).build());
  }

  public void put(String key, String value) {
    put(utf8(key), utf8(value));
  }

  /** Deletes {@code key} (absent or not) when the transaction commits. */
  public void delete(byte[] key) {
    checkActive("delete");
    client.limits.checkKey(key);
    buffer(TxnMutation.newBuilder().setKind(MutationKind.MUTATION_DELETE).setKey(Requests.bytes(key.clone()))
        .build());
  }

  public void delete(String key) {
    delete(utf8(key));
  }

  private void buffer(TxnMutation m) {
    byte[] key = m.getKey().toByteArray();
    TxnMutation old = writes.get(key);
    long bytes = writeBytes - (old == null ? 0 : old.getKey().size() + old.getValue().size())
        + m.getKey().size() + m.getValue().size();
    int keys = writes.size() + (old == null ? 1 : 0);
    if (keys > client.settings.maxKeys()) {
      throw new LimitExceededException(TxnClient.MAX_TXN_KEYS, client.settings.maxKeys(), keys,
          "transaction " + startTs + " (keys written)");
    }
    if (bytes > client.settings.maxBytes()) {
      throw new LimitExceededException(TxnClient.MAX_TXN_BYTES, client.settings.maxBytes(), bytes,
          "transaction " + startTs + " (bytes of keys and values written)");
    }
    writes.put(key, m);
    writeBytes = bytes;
  }

  // ------------------------------------------------------------------ commit and rollback

  /**
   * Commits: completes with the commit timestamp. Fails with {@link WriteConflictException} or
   * {@link TxnAbortedException} (nothing committed: retry the transaction), {@link
   * KeyLockedException} (a key stayed locked by a live transaction: nothing committed), or
   * {@link OutcomeUnknownException} when the primary key's commit could not be confirmed.
   */
  public synchronized CompletableFuture<Long> commitAsync() {
    return start(() -> {
      checkActive("commit");
      state = State.COMMITTING;
      if (writes.isEmpty()) {
        commitTs = startTs;
        state = State.COMMITTED;
        return CompletableFuture.completedFuture(startTs);
      }
      long deadline = client.deadline();
      List<byte[]> keys = new ArrayList<>(writes.keySet());
      byte[] primary = keys.get(0);
      Heartbeats heartbeats = new Heartbeats(primary);
      CompletableFuture<Long> done = prewrite(keys, primary, deadline)
          .thenCompose(v -> client.tso.next())
          .thenCompose(ts -> commitPrimary(primary, ts, deadline).thenApply(v -> ts));
      return done.whenComplete((ts, error) -> {
        heartbeats.stop();
        if (error == null) {
          commitTs = ts;
          state = State.COMMITTED;
          commitSecondaries(keys.subList(1, keys.size()), ts);
          return;
        }
        Throwable e = RegionCall.unwrap(error);
        if (e instanceof OutcomeUnknownException) {
          state = State.FAILED;
        } else {
          state = State.ROLLED_BACK;
          rollbackQuietly(keys);
        }
      });
    });
  }

  public long commit() {
    return client.await(commitAsync(), true);
  }

  /** Discards the buffered writes; nothing was sent before {@link #commit()}, so nothing to undo. */
  public synchronized void rollback() {
    checkActive("rollback");
    state = State.ROLLED_BACK;
    writes.clear();
  }

  /** Rolls back a transaction that neither committed nor was rolled back. */
  @Override
  public synchronized void close() {
    if (state == State.ACTIVE) {
      rollback();
    }
  }

  private CompletableFuture<Void> prewrite(List<byte[]> keys, byte[] primary, long deadline) {
    return RegionGroups.of(ctx.locator(), keys).thenCompose(groups -> {
      List<CompletableFuture<Void>> parts = new ArrayList<>();
      for (List<byte[]> group : groups) {
        parts.add(prewriteGroup(group, primary, deadline, new Attempts()));
      }
      return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
    });
  }

  private CompletableFuture<Void> prewriteGroup(List<byte[]> group, byte[] primary, long deadline, Attempts attempts) {
    List<TxnMutation> mutations = new ArrayList<>(group.size());
    for (byte[] k : group) {
      mutations.add(writes.get(k));
    }
    return RegionCall.run(ctx, new TxnRequests.Prewrite(group, mutations, primary, startTs,
            client.settings.lockTtl().toMillis(), writes.size()), deadline)
        .handle((r, error) -> {
          if (error != null) {
            Throwable e = RegionCall.unwrap(error);
            return e instanceof RegionChangedException ? prewrite(group, primary, deadline)
                : CompletableFuture.<Void>failedFuture(e);
          }
          if (!r.hasError()) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          if (r.getError().hasLocked()) {
            return afterLock(r.getError().getLocked(), deadline, attempts,
                () -> prewriteGroup(group, primary, deadline, attempts));
          }
          return CompletableFuture.<Void>failedFuture(toException(r.getError()));
        })
        .thenCompose(f -> f);
  }

  private CompletableFuture<Void> commitPrimary(byte[] primary, long ts, long deadline) {
    return RegionCall.run(ctx, new TxnRequests.Commit(List.of(primary), startTs, ts), deadline)
        .handle((r, error) -> {
          if (error == null) {
            return r.hasError() ? CompletableFuture.<Void>failedFuture(commitError(r.getError()))
                : CompletableFuture.<Void>completedFuture(null);
          }
          Throwable e = RegionCall.unwrap(error);
          if (!(e instanceof OutcomeUnknownException)) {
            return CompletableFuture.<Void>failedFuture(e);
          }
          // The commit point may or may not have passed: ask the primary (without rolling back).
          return RegionCall.run(ctx, new TxnRequests.CheckStatus(primary, startTs, ts, false), client.deadline())
              .<Void>handle((s, checkError) -> {
                if (checkError == null && !s.hasError()) {
                  switch (s.getStatus()) {
                    case TXN_COMMITTED:
                      return null;
                    case TXN_ROLLED_BACK:
                      throw new TxnAbortedException(startTs, "its primary lock was rolled back before the commit");
                    default:
                      break;
                  }
                }
                throw new OutcomeUnknownException("the commit of transaction " + startTs + "'s primary key "
                    + KvEntry.printable(primary) + " cannot be confirmed: " + e.getMessage(), e);
              });
        })
        .thenCompose(f -> f);
  }

  private Throwable commitError(TxnError e) {
    if (e.hasTxnNotFound() || e.hasAborted()) {
      return new TxnAbortedException(startTs, "its primary lock was gone at commit (expired and rolled back by"
          + " another transaction): " + e.getMessage());
    }
    return toException(e);
  }

  private void commitSecondaries(List<byte[]> secondaries, long ts) {
    if (secondaries.isEmpty()) {
      return;
    }
    long deadline = client.deadline();
    RegionGroups.of(ctx.locator(), secondaries).thenAccept(groups -> {
      for (List<byte[]> group : groups) {
        RegionCall.run(ctx, new TxnRequests.Commit(group, startTs, ts), deadline).whenComplete((r, e) -> {
          if (e != null || r.hasError()) {
            // NB: the transaction is committed (its primary is); readers commit these locks.
            LOG.debug("txn {}: committing {} secondary keys left them locked: {}", startTs, group.size(),
                e != null ? e.toString() : r.getError().getMessage());
          }
        });
      }
    });
  }

  private void rollbackQuietly(List<byte[]> keys) {
    long deadline = client.deadline();
    RegionGroups.of(ctx.locator(), keys).thenAccept(groups -> {
      for (List<byte[]> group : groups) {
        RegionCall.run(ctx, new TxnRequests.Rollback(group, startTs), deadline).whenComplete((r, e) -> {
          if (e != null || r.hasError()) {
            LOG.debug("txn {}: rolling back {} keys failed (their locks expire): {}", startTs, group.size(),
                e != null ? e.toString() : r.getError().getMessage());
          }
        });
      }
    });
  }

  /** Keeps the primary lock alive while a commit runs: a heartbeat every third of the TTL. */
  private final class Heartbeats {
    private final java.util.concurrent.ScheduledFuture<?> task;

    Heartbeats(byte[] primary) {
      long period = Math.max(50, client.settings.lockTtl().toMillis() / 3);
      long ttl = client.settings.lockTtl().toMillis();
      task = ctx.scheduler().scheduleAtFixedRate(() -> RegionCall.run(ctx,
          new TxnRequests.Heartbeat(primary, startTs, ttl), client.deadline()), period, period, TimeUnit.MILLISECONDS);
    }

    void stop() {
      task.cancel(false);
    }
  }

  // ------------------------------------------------------------------ reads, internals

  private CompletableFuture<byte[]> readKey(byte[] key, long deadline, Attempts attempts) {
    return RegionCall.run(ctx, new TxnRequests.Get(key, startTs), deadline).thenCompose(r -> {
      if (!r.hasError()) {
        return CompletableFuture.completedFuture(r.getFound() ? r.getValue().toByteArray() : null);
      }
      if (r.getError().hasLocked()) {
        return afterLock(r.getError().getLocked(), deadline, attempts, () -> readKey(key, deadline, attempts));
      }
      return CompletableFuture.failedFuture(toException(r.getError()));
    });
  }

  private CompletableFuture<List<KvPair>> batchGetParts(List<byte[]> sortedKeys, long deadline) {
    return RegionGroups.of(ctx.locator(), sortedKeys).thenCompose(groups -> {
      List<CompletableFuture<List<KvPair>>> parts = new ArrayList<>();
      for (List<byte[]> group : groups) {
        parts.add(batchGetGroup(group, deadline, new Attempts()));
      }
      return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
        List<KvPair> all = new ArrayList<>();
        parts.forEach(p -> all.addAll(p.join()));
        return all;
      });
    });
  }

  private CompletableFuture<List<KvPair>> batchGetGroup(List<byte[]> group, long deadline, Attempts attempts) {
    return RegionCall.run(ctx, new TxnRequests.BatchGet(group, startTs), deadline)
        .handle((r, error) -> {
          if (error != null) {
            Throwable e = RegionCall.unwrap(error);
            return e instanceof RegionChangedException ? batchGetParts(group, deadline)
                : CompletableFuture.<List<KvPair>>failedFuture(e);
          }
          if (!r.hasError()) {
            return CompletableFuture.completedFuture(r.getPairsList());
          }
          if (r.getError().hasLocked()) {
            return afterLock(r.getError().getLocked(), deadline, attempts, () -> batchGetGroup(group, deadline, attempts));
          }
          return CompletableFuture.<List<KvPair>>failedFuture(toException(r.getError()));
        })
        .thenCompose(f -> f);
  }

  /** Scans region by region from {@code cursor}, adding pairs to {@code into} until {@code want} (0: all). */
  private CompletableFuture<Void> scanFrom(byte[] cursor, byte[] to, int want, TreeMap<byte[], byte[]> into,
      long deadline, Attempts attempts) {
    int page = want == 0 ? PAGE : Math.min(PAGE, want - into.size());
    return RegionCall.run(ctx, new TxnRequests.ScanPiece(cursor, to, page, startTs), deadline).thenCompose(p -> {
      if (p.response().hasError()) {
        if (p.response().getError().hasLocked()) {
          return afterLock(p.response().getError().getLocked(), deadline, attempts,
              () -> scanFrom(cursor, to, want, into, deadline, attempts));
        }
        return CompletableFuture.failedFuture(toException(p.response().getError()));
      }
      List<KvPair> pairs = p.response().getPairsList();
      byte[] last = null;
      for (KvPair kv : pairs) {
        last = kv.getKey().toByteArray();
        into.put(last, kv.getValue().toByteArray());
      }
      if (want > 0 && into.size() >= want) {
        return CompletableFuture.completedFuture(null);
      }
      byte[] next;
      if (pairs.size() >= page && last != null) {
        next = Keys.successor(last);
      } else if (Keys.endCovers(p.region().endKey(), to)) {
        return CompletableFuture.completedFuture(null);
      } else {
        next = p.region().endKey();
      }
      return scanFrom(next, to, want, into, deadline, new Attempts());
    });
  }

  /** Retries after a lock of another transaction: at once if it was cleared, after a backoff if its owner lives. */
  private <T> CompletableFuture<T> afterLock(LockInfo lock, long deadline, Attempts attempts,
      Supplier<CompletableFuture<T>> retry) {
    return client.resolver.resolve(lock, startTs, deadline).thenCompose(cleared -> {
      if (cleared) {
        return retry.get();
      }
      long delay = attempts.backoff.nextDelayNanos();
      if (System.nanoTime() + delay >= deadline) {
        return CompletableFuture.failedFuture(new KeyLockedException(lock.getKey().toByteArray(), lock.getStartTs(),
            lock.getPrimary().toByteArray(), lock.getTtlMs()));
      }
      CompletableFuture<T> later = new CompletableFuture<>();
      ctx.scheduler().schedule(() -> retry.get().whenComplete((v, e) -> {
        if (e != null) {
          later.completeExceptionally(RegionCall.unwrap(e));
        } else {
          later.complete(v);
        }
      }), delay, TimeUnit.NANOSECONDS);
      return later;
    });
  }

  /** The backoff of one call's waits for live locks. */
  private final class Attempts {
    final RetryBackoff backoff = new RetryBackoff(ctx.config().backoffMin().toNanos(),
        ctx.config().backoffMax().toNanos(), () -> ThreadLocalRandom.current().nextDouble());
  }

  private KvException toException(TxnError e) {
    if (e.hasWriteConflict()) {
      var c = e.getWriteConflict();
      return new WriteConflictException(c.getKey().toByteArray(), startTs, c.getConflictStartTs(),
          c.getConflictCommitTs());
    }
    if (e.hasAborted()) {
      return new TxnAbortedException(startTs, e.getMessage());
    }
    if (e.hasLimitExceeded()) {
      var l = e.getLimitExceeded();
      return new LimitExceededException(l.getLimit(), l.getMax(), l.getActual(), "transaction " + startTs);
    }
    if (e.hasLocked()) {
      LockInfo l = e.getLocked();
      return new KeyLockedException(l.getKey().toByteArray(), l.getStartTs(), l.getPrimary().toByteArray(),
          l.getTtlMs());
    }
    return new KvException("transaction " + startTs + ": " + e.getMessage());
  }

  private void checkActive(String what) {
    if (state != State.ACTIVE) {
      throw new IllegalStateException("cannot " + what + ": transaction " + startTs + " is "
          + state.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
    }
  }

  private static <T> CompletableFuture<T> start(Supplier<CompletableFuture<T>> call) {
    try {
      return call.get();
    } catch (IllegalStateException e) {
      throw e;
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
}
