package io.flotilla.router;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.LimitExceeded;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.transport.ConnectionLostException;
import io.flotilla.engine.transport.Deadlines;
import io.flotilla.engine.transport.FrameTooLargeException;
import io.flotilla.engine.transport.RemoteRpcException;
import io.flotilla.engine.transport.RpcErrorCode;
import io.flotilla.engine.transport.RpcTimeoutException;
import io.flotilla.router.RegionRequest.Reply;
import io.flotilla.router.cache.CachedRegion;
import io.flotilla.router.cache.StoreUnavailableException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one {@link RegionRequest} to its region's leader and retries it until it gets an answer
 * or the deadline passes, repairing the region cache from what goes wrong.
 *
 * <table>
 *   <caption>What each failure does (then the call tries again)</caption>
 *   <tr><th>failure</th><th>cache repair</th><th>next attempt</th></tr>
 *   <tr><td>NotLeader with a hint</td><td>leader := hint</td><td>at once</td></tr>
 *   <tr><td>NotLeader without a hint</td><td>leader := next voter</td><td>after backoff</td></tr>
 *   <tr><td>EpochNotMatch</td><td>replaced by the store's current regions</td><td>at once</td></tr>
 *   <tr><td>RegionNotFound, KeyNotInRegion</td><td>region dropped (reloaded from PD)</td>
 *       <td>after backoff</td></tr>
 *   <tr><td>ServerBusy, a kind this version does not know</td><td>none</td>
 *       <td>after backoff</td></tr>
 *   <tr><td>handler failure (RPC error, no KvError)</td><td>none; a write may have been
 *       applied</td><td>after backoff</td></tr>
 *   <tr><td>no answer in time</td><td>leader := next voter</td><td>at once</td></tr>
 *   <tr><td>connection lost, store unknown or a tombstone</td><td>leader := next voter, address
 *       forgotten; after every peer failed, region dropped</td><td>at once</td></tr>
 *   <tr><td>StaleSequence (writes: a later write of this client overtook it)</td><td>none</td>
 *       <td>at once, under a new seq; OutcomeUnknown if an earlier attempt may have applied</td></tr>
 *   <tr><td>PD or store look-up failed</td><td>none</td><td>after backoff</td></tr>
 *   <tr><td>LimitExceeded</td><td colspan="2">the call fails with LimitExceededException</td></tr>
 *   <tr><td>OutcomeUnknown (writes: the store cannot tell whether it applied)</td>
 *       <td colspan="2">the call fails with OutcomeUnknownException</td></tr>
 * </table>
 *
 * <p>The router decides by the KvError's kind, never by its message. "At once" is bounded: after
 * a few immediate retries in a row the next one waits a backoff, so two stores pointing at each
 * other cannot spin.
 *
 * <p>At the deadline, a write that was sent and not answered (in flight, timed out, or lost with
 * its connection after it was written) fails with {@link OutcomeUnknownException}; a read, or a
 * write never sent, fails with {@link DeadlineExceededException} if the last thing that went wrong
 * was slowness, with {@link RegionUnavailableException} if it was an error. A write's retries all
 * carry the same seq: if an earlier attempt was applied, the store answers the retry with the first
 * answer and applies nothing. A store keeps the answers of a client's seqs from its oldest pending
 * write on ({@code min_pending_seq}), so a write overtaken by later ones of the same client may
 * find its seq forgotten and be refused with StaleSequence: it is sent again under a new seq if no
 * earlier attempt can have been applied, else it is OutcomeUnknown.
 *
 * <p>Threads: one attempt at a time; each step runs on a router thread. The deadline timer may run
 * concurrently with an attempt: whichever completes the result first wins.
 */
final class RegionCall<R> {

  private static final Logger LOG = LoggerFactory.getLogger(RegionCall.class);
  private static final int MAX_IMMEDIATE_RETRIES = 3;

  private final RouterContext ctx;
  private final RegionRequest<R> request;
  private final long deadlineNanos;
  /** The write's seq: 0 until its first send, then kept by every retry (see onStaleSeq). */
  private volatile long seq;
  private final CompletableFuture<R> result = new CompletableFuture<>();
  private final RetryBackoff backoff;
  private io.netty.util.Timeout deadlineTimer;
  private int immediateRetries;
  private int connectionFailures;
  // Read by the deadline timer.
  private volatile boolean writeInFlight;
  private volatile boolean maybeDelivered;
  private volatile Throwable lastError;
  private volatile boolean lastWasSlow;

  RegionCall(RouterContext ctx, RegionRequest<R> request, long deadlineNanos) {
    this.ctx = ctx;
    this.request = request;
    this.deadlineNanos = deadlineNanos;
    RouterConfig c = ctx.config();
    this.backoff = new RetryBackoff(c.backoffMin().toNanos(), c.backoffMax().toNanos(),
        () -> ThreadLocalRandom.current().nextDouble());
    // Whatever ends the call, its seq no longer holds back the stores' de-duplication floor.
    result.whenComplete((v, e) -> ctx.seqDone(seq));
  }

  /** Sends {@code request} and retries it until {@code deadlineNanos} ({@link System#nanoTime}). */
  static <R> CompletableFuture<R> run(RouterContext ctx, RegionRequest<R> request,
      long deadlineNanos) {
    return new RegionCall<>(ctx, request, deadlineNanos).start();
  }

  long seq() {
    return seq;
  }

  CompletableFuture<R> start() {
    ctx.inFlight().add(this);
    result.whenComplete((r, e) -> ctx.inFlight().remove(this));
    if (ctx.executor().isShutdown()) {
      fail(new KvException("the client is closed"));
      return result;
    }
    long remaining = deadlineNanos - System.nanoTime();
    // NB: on the JVM's timer wheel, not the scheduler: set and cancelled for every call (O(1) there).
    deadlineTimer = Deadlines.after(Math.max(0, remaining), TimeUnit.NANOSECONDS, this::deadlinePassed);
    result.whenComplete((r, e) -> deadlineTimer.cancel());
    attempt();
    return result;
  }

  private void deadlinePassed() {
    try {
      ctx.executor().execute(this::onDeadline);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // close() ends every call in flight.
    }
  }

  private void attempt() {
    if (result.isDone()) {
      return;
    }
    if (System.nanoTime() - deadlineNanos >= 0) {
      onDeadline();
      return;
    }
    CompletableFuture<CachedRegion> located;
    try {
      located = request.locate(ctx.locator());
    } catch (RuntimeException e) {
      located = CompletableFuture.failedFuture(e);
    }
    whenDone(located, (region, error) -> {
      if (error != null) {
        onLookUpFailure(unwrap(error));
      } else if (!request.fits(region)) {
        result.completeExceptionally(new RegionChangedException(maybeDelivered));
      } else {
        Peer peer = region.target();
        if (peer == null) {
          ctx.cache().invalidate(region.id());
          onLookUpFailure(new StoreUnavailableException(region + " has no peers"));
          return;
        }
        whenDone(ctx.stores().address(peer.getStoreId()), (address, addressError) -> {
          if (addressError != null) {
            onStoreUnavailable(region, peer, unwrap(addressError));
          } else {
            send(region, peer, address);
          }
        });
      }
    });
  }

  private void send(CachedRegion region, Peer peer, InetSocketAddress address) {
    if (result.isDone()) {
      return;
    }
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    if (remainingMs <= 0) {
      onDeadline();
      return;
    }
    Duration rpcDeadline =
        Duration.ofMillis(Math.min(remainingMs, ctx.config().attemptTimeout().toMillis()));
    RequestContext context = RequestContext.newBuilder()
        .setRegionId(region.id())
        .setEpoch(region.epoch())
        .build();
    if (request.isWrite() && seq == 0) {
      // NB: numbered at the first send, not at creation, so writes leave in seq order as far as
      // threads allow; stores keep the answers of seqs from the client's oldest pending one on.
      seq = ctx.nextSeq();
    }
    byte[] bytes = request.encode(context, region, ctx.clientId(), seq, request.isWrite() ? ctx.minPendingSeq(seq) : 0);
    if (request.isWrite()) {
      writeInFlight = true;
    }
    CompletableFuture<byte[]> call;
    try {
      call = ctx.rpc().call(address, request.method(), bytes, rpcDeadline);
    } catch (RuntimeException e) {
      call = CompletableFuture.failedFuture(e);
    }
    call.whenCompleteAsync((response, error) -> {
      if (error != null) {
        onRpcFailure(region, peer, unwrap(error));
      } else {
        writeInFlight = false;
        onResponse(region, peer, response);
      }
    }, ctx.executor());
  }

  private void onResponse(CachedRegion region, Peer peer, byte[] response) {
    Reply<R> reply;
    try {
      reply = request.decode(region, response);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      fail(new KvException(request.describe() + ": store " + peer.getStoreId()
          + " answered a malformed " + request.method() + " response", e));
      return;
    }
    if (reply.error() == null) {
      result.complete(reply.value());
    } else {
      onKvError(region, peer, reply.error());
    }
  }

  private void onKvError(CachedRegion region, Peer peer, KvError error) {
    lastError = new KvException("store " + peer.getStoreId() + " answered " + request.describe()
        + " on " + region + " with " + error.getKindCase() + ": " + error.getMessage());
    lastWasSlow = false;
    connectionFailures = 0;
    switch (error.getKindCase()) {
      case NOT_LEADER -> {
        if (error.getNotLeader().hasLeader()) {
          Peer hint = error.getNotLeader().getLeader();
          ctx.cache().updateLeader(region.id(), hint);
          retry(hint.getId() != peer.getId());
        } else {
          ctx.cache().tryNextPeer(region.id(), peer);
          retry(false);
        }
      }
      case EPOCH_NOT_MATCH -> {
        ctx.cache().onEpochNotMatch(region.id(),
            error.getEpochNotMatch().getCurrentRegionsList(), peer.getStoreId());
        retry(true);
      }
      case REGION_NOT_FOUND, KEY_NOT_IN_REGION -> {
        ctx.cache().invalidate(region.id());
        retry(false);
      }
      case LIMIT_EXCEEDED -> {
        LimitExceeded l = error.getLimitExceeded();
        fail(new LimitExceededException(l.getLimit(), l.getMax(), l.getActual(),
            request.describe() + " (refused by store " + peer.getStoreId() + ")"));
      }
      case STALE_SEQUENCE -> {
        if (request.isWrite()) {
          onStaleSeq(peer, error);
        } else {
          retry(false);
        }
      }
      case OUTCOME_UNKNOWN -> {
        if (request.isWrite()) {
          onOutcomeUnknown(peer, error);
        } else {
          retry(false);
        }
      }
      // SERVER_BUSY, and KIND_NOT_SET: how a kind this version does not know arrives.
      default -> retry(false);
    }
  }

  /** The store cannot tell whether the write was applied, and it may still be: the call ends. */
  private void onOutcomeUnknown(Peer peer, KvError error) {
    maybeDelivered = true;
    fail(new OutcomeUnknownException(request.describe() + ": store " + peer.getStoreId()
        + " cannot tell whether the write was applied (seq " + seq + "): " + error.getMessage(),
        lastError));
  }

  /**
   * The region forgot this seq's answer (it is below the client's oldest pending write, as a later
   * write of this client told the region), so it refuses it unapplied. If no attempt of this write
   * may have reached a store, it was not applied: send it again under a new seq. Otherwise an
   * earlier attempt may have been applied before the later write, and nobody can tell.
   */
  private void onStaleSeq(Peer peer, KvError error) {
    if (maybeDelivered) {
      fail(new OutcomeUnknownException(request.describe() + ": an earlier attempt (seq " + seq
          + ") may have been applied, and store " + peer.getStoreId() + " no longer remembers: "
          + error.getMessage(), lastError));
      return;
    }
    ctx.seqDone(seq);
    seq = ctx.nextSeq();
    retry(true);
  }

  private void onRpcFailure(CachedRegion region, Peer peer, Throwable error) {
    // NB: maybeDelivered is set before writeInFlight is cleared: the deadline timer reads them in
    // the other order, so it never sees neither.
    if (request.isWrite() && mayHaveBeenDelivered(error)) {
      maybeDelivered = true;
    }
    writeInFlight = false;
    lastError = error;
    lastWasSlow = error instanceof RpcTimeoutException;
    if (error instanceof RemoteRpcException remote) {
      onRemoteError(region, peer, remote);
    } else if (error instanceof RpcTimeoutException) {
      ctx.cache().tryNextPeer(region.id(), peer);
      retry(true);
    } else if (error instanceof ConnectionLostException) {
      onStoreUnavailable(region, peer, error);
    } else if (error instanceof FrameTooLargeException) {
      fail(new LimitExceededException("max-frame-bytes",
          request.describe() + " does not fit in one transport frame: " + error.getMessage()));
    } else if (error instanceof io.flotilla.engine.transport.TransportException) {
      retry(false);
    } else {
      fail(new KvException(request.describe() + " failed unexpectedly", error));
    }
  }

  private void onRemoteError(CachedRegion region, Peer peer, RemoteRpcException error) {
    switch (error.code()) {
      case HANDLER_FAILED -> retry(false);
      case RESPONSE_TOO_LARGE -> {
        if (request.shrink()) {
          retry(true);
        } else {
          fail(new LimitExceededException("max-frame-bytes",
              request.describe() + ": the answer does not fit in one transport frame"));
        }
      }
      default -> { // SHUTTING_DOWN, UNKNOWN_METHOD (not a store, or not serving yet), UNKNOWN
        ctx.cache().tryNextPeer(region.id(), peer);
        retry(false);
      }
    }
  }

  private void onStoreUnavailable(CachedRegion region, Peer peer, Throwable error) {
    lastError = error;
    ctx.stores().invalidate(peer.getStoreId());
    ctx.cache().tryNextPeer(region.id(), peer);
    if (++connectionFailures >= Math.max(1, region.peers().size())) {
      LOG.debug("[region={}] no peer reachable ({}); reloading it from PD", region.id(),
          error.toString());
      connectionFailures = 0;
      ctx.cache().invalidate(region.id());
      retry(false);
    } else {
      retry(true);
    }
  }

  private void onLookUpFailure(Throwable error) {
    lastError = error;
    lastWasSlow = error instanceof RpcTimeoutException;
    retry(false);
  }

  private void retry(boolean immediate) {
    if (result.isDone()) {
      return;
    }
    if (immediate && immediateRetries < MAX_IMMEDIATE_RETRIES) {
      immediateRetries++;
      attempt();
      return;
    }
    immediateRetries = 0;
    long delay = backoff.nextDelayNanos();
    if (System.nanoTime() + delay - deadlineNanos >= 0) {
      return; // the deadline timer ends the call
    }
    ctx.scheduler().schedule(() -> ctx.executor().execute(this::attempt), delay,
        TimeUnit.NANOSECONDS);
  }

  private void onDeadline() {
    if (result.isDone()) {
      return;
    }
    // NB: writeInFlight first, see onRpcFailure.
    boolean unknown = request.isWrite() && (writeInFlight || maybeDelivered);
    Throwable cause = lastError;
    String what = request.describe() + " got no answer within " + ctx.config().timeout().toMillis()
        + " ms";
    if (unknown) {
      fail(new OutcomeUnknownException(what + " after it was sent (seq " + seq
          + "); it may or may not have been applied", cause));
    } else if (cause == null || lastWasSlow) {
      fail(new DeadlineExceededException(what, cause));
    } else {
      fail(new RegionUnavailableException(what + "; last error: " + cause.getMessage(), cause));
    }
  }

  /** The client is closing: ends the call now. */
  void abort() {
    if (request.isWrite() && (writeInFlight || maybeDelivered)) {
      fail(new OutcomeUnknownException(request.describe() + ": the client was closed after the"
          + " write was sent (seq " + seq + "); it may or may not have been applied", lastError));
    } else {
      fail(new KvException(request.describe() + ": the client was closed", lastError));
    }
  }

  private void fail(Throwable error) {
    result.completeExceptionally(error);
  }

  /**
   * Whether a failed RPC may have reached the store (and a write may have been applied). A handler
   * failure may: it is no KvError, whose kinds other than OutcomeUnknown all mean "not applied".
   */
  private static boolean mayHaveBeenDelivered(Throwable error) {
    if (error instanceof RpcTimeoutException) {
      return true;
    }
    if (error instanceof ConnectionLostException lost) {
      return lost.maybeDelivered();
    }
    return error instanceof RemoteRpcException remote
        && remote.code() == RpcErrorCode.HANDLER_FAILED;
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Runs {@code then} at once if {@code f} is done, else on a router thread when it is. */
  private <T> void whenDone(CompletableFuture<T> f, BiConsumer<T, Throwable> then) {
    if (f.isDone()) {
      T value = null;
      Throwable error = null;
      try {
        value = f.join();
      } catch (RuntimeException e) {
        error = e;
      }
      then.accept(value, error);
    } else {
      f.whenCompleteAsync(then, ctx.executor());
    }
  }
}
