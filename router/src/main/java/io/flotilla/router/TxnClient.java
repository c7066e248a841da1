package io.flotilla.router;

import io.flotilla.engine.client.PdClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Transactions over the router: snapshot isolation across regions, Percolator's two-phase commit
 * (docs/transactions.md). {@link #begin} takes a start timestamp from the {@link TimestampOracle};
 * the {@link Txn} reads at it and buffers its writes until {@link Txn#commit}.
 *
 * <p>Snapshot isolation means: a transaction reads the versions committed before it started (and
 * its own writes); of two transactions writing a common key, the second to commit fails with
 * {@link WriteConflictException}. Prevented: dirty reads, non-repeatable reads, read skew, lost
 * updates. Allowed: write skew — two transactions that each read what the other writes and write
 * disjoint keys both commit (make them write a common key to forbid it).
 *
 * <p>Raw KV ({@link AsyncKvClient}) and transactions use separate key spaces: a raw put is not
 * seen by a transaction and the other way round.
 *
 * <p>Shares the region cache, RPC and threads of the {@link AsyncKvClient} it is made from; closing
 * it closes nothing of that client. Threads: any.
 */
public final class TxnClient implements AutoCloseable {
  /**
   * @param lockTtl how long a transaction's locks outlive a silent owner (extended by heartbeats
   *     while it commits); another transaction meeting an expired lock rolls its owner back
   * @param maxKeys keys one transaction may write
   * @param maxBytes bytes (keys and values) one transaction may write
   */
  public record Settings(Duration lockTtl, int maxKeys, long maxBytes) {
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(3), 100_000, 64L << 20);
    }

    Settings validate() {
      if (lockTtl == null || lockTtl.toMillis() < 100) {
        throw new IllegalArgumentException("lockTtl: must be at least 100 ms, got " + lockTtl);
      }
      if (maxKeys < 1) {
        throw new IllegalArgumentException("maxKeys: must be >= 1, got " + maxKeys);
      }
      if (maxBytes < 1) {
        throw new IllegalArgumentException("maxBytes: must be >= 1, got " + maxBytes);
      }
      return this;
    }
  }

  static final String MAX_TXN_KEYS = "max-txn-keys";
  static final String MAX_TXN_BYTES = "max-txn-bytes";

  final RouterContext ctx;
  final Limits limits;
  final TimestampOracle tso;
  final Settings settings;
  final LockResolver resolver;
  private final List<AutoCloseable> owned;

  /**
   * A client of the cluster whose PD members are {@code config.pdAddresses()}: its own PD client
   * (timestamps and region look-ups) and router, closed by {@link #close}.
   */
  public static TxnClient connect(RouterConfig config, Settings settings) {
    config.validate();
    PdClient pd = RemotePdClients.create(config.pdAddresses(), config.timeout());
    AsyncKvClient kv;
    try {
      kv = new AsyncKvClient(config, pd);
    } catch (RuntimeException e) {
      pd.close();
      throw e;
    }
    return new TxnClient(kv, pd::getTimestamp, settings, List.of(kv, pd));
  }

  public TxnClient(AsyncKvClient kv, TimestampOracle tso) {
    this(kv, tso, Settings.defaults());
  }

  public TxnClient(AsyncKvClient kv, TimestampOracle tso, Settings settings) {
    this(kv, tso, settings, List.of());
  }

  private TxnClient(AsyncKvClient kv, TimestampOracle tso, Settings settings, List<AutoCloseable> owned) {
    this.owned = owned;
    if (kv == null || tso == null) {
      throw new IllegalArgumentException("an AsyncKvClient and a TimestampOracle are required");
    }
    this.ctx = kv.context();
    this.limits = new Limits(ctx.config());
    this.tso = tso;
    this.settings = settings.validate();
    this.resolver = new LockResolver(ctx);
  }

  /** Starts a transaction: its start timestamp is taken now. */
  public CompletableFuture<Txn> beginAsync() {
    return tso.next().thenApply(ts -> new Txn(this, ts));
  }

  /** Starts a transaction (blocks for its start timestamp). */
  public Txn begin() {
    return await(beginAsync(), false);
  }

  long deadline() {
    return System.nanoTime() + ctx.config().timeout().toNanos();
  }

  /** Waits for {@code f}, rethrowing the KvException it failed with (see {@link KvClient}). */
  <T> T await(CompletableFuture<T> f, boolean write) {
    long waitMs = ctx.config().timeout().toMillis() * 2 + 5_000;
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
      throw write ? new OutcomeUnknownException("interrupted while committing; the transaction may commit", e)
          : new KvException("interrupted", e);
    } catch (TimeoutException e) {
      throw write ? new OutcomeUnknownException("no answer to a commit within " + waitMs + " ms", e)
          : new DeadlineExceededException("no answer within " + waitMs + " ms", e);
    }
  }

  /** Closes what {@link #connect} opened; a client made on an {@link AsyncKvClient} closes nothing of it. */
  @Override
  public void close() {
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        org.slf4j.LoggerFactory.getLogger(TxnClient.class).warn("Closing {} failed: {}", c, e.toString());
      }
    }
  }
}
