package io.flotilla.router;

import io.flotilla.router.cache.RegionCache;
import io.flotilla.router.cache.RegionLocator;
import io.flotilla.router.cache.StoreAddresses;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every call of one client shares: the config, the region cache and its PD look-ups, store
 * addresses, the RPC, the router threads and the write identity.
 *
 * <p>{@code clientId} is random per client; {@code seq} numbers its writes from 1 (0 means "no
 * de-duplication" to a store), in the order they are first sent. A retry of a write reuses its
 * seq, so the store applies it once.
 *
 * <p>{@code inFlight} holds the calls not yet completed, so {@code close()} can end them.
 */
record RouterContext(
    RouterConfig config,
    RegionCache cache,
    RegionLocator locator,
    StoreAddresses stores,
    StoreRpc rpc,
    ExecutorService executor,
    ScheduledExecutorService scheduler,
    long clientId,
    Set<RegionCall<?>> inFlight,
    PendingSeqs pendingSeqs) {

  /** A new seq for a write, pending until {@link #seqDone}. */
  long nextSeq() {
    // NB: pending under the same number the store will see, before it can be sent.
    return pendingSeqs.next();
  }

  /** The write sent under {@code s} got its final answer, or was renumbered. */
  void seqDone(long s) {
    pendingSeqs.done(s);
  }

  /**
   * The smallest seq of this client's writes still waiting for an answer, at most {@code own}:
   * stores keep answers from there on, so any pending write can be retried safely.
   */
  long minPendingSeq(long own) {
    return pendingSeqs.min(own);
  }
}
