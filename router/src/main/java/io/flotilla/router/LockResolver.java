package io.flotilla.router;

import io.flotilla.engine.proto.txn.CheckTxnStatusResponse;
import io.flotilla.engine.proto.txn.LockInfo;
import io.flotilla.engine.proto.txn.TxnStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Clears a lock of another transaction that a read or a prewrite met, the way Percolator does: ask
 * the lock's primary key for the transaction's fate (rolling it back if its TTL passed by the
 * primary's leader's clock), then commit or roll back the lock met. A live owner is left alone:
 * the caller backs off and tries again until its deadline.
 *
 * <p>Fates learned are kept (a few thousand transactions): a scan meeting many locks of one dead
 * transaction asks its primary once.
 */
final class LockResolver {
  private static final int REMEMBERED = 4096;

  private final RouterContext ctx;
  /** start_ts → commit_ts of transactions whose fate is known; 0 means rolled back. */
  private final Map<Long, Long> fates = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
      return size() > REMEMBERED;
    }
  };

  LockResolver(RouterContext ctx) {
    this.ctx = ctx;
  }

  /**
   * Resolves {@code lock}, met by a caller at {@code callerTs}. Completes with true once the lock is
   * gone (committed or rolled back: read again), false if its owner is alive (back off).
   */
  CompletableFuture<Boolean> resolve(LockInfo lock, long callerTs, long deadline) {
    long owner = lock.getStartTs();
    Long known;
    synchronized (fates) {
      known = fates.get(owner);
    }
    CompletableFuture<Long> fate = known != null ? CompletableFuture.completedFuture(known)
        : ask(lock, callerTs, deadline, false);
    return fate.thenCompose(commitTs -> {
      if (commitTs < 0) {
        return CompletableFuture.completedFuture(false);
      }
      synchronized (fates) {
        fates.put(owner, commitTs);
      }
      return RegionCall.run(ctx, new TxnRequests.ResolveLock(List.of(lock.getKey().toByteArray()), owner, commitTs),
          deadline).thenApply(r -> {
            if (r.hasError()) {
              throw new KvException("resolving the lock of transaction " + owner + " on key "
                  + KvEntry.printable(lock.getKey().toByteArray()) + " failed: " + r.getError().getMessage());
            }
            return true;
          });
    });
  }

  /**
   * The owner's fate from its primary: first without rolling anything back; then, if the primary
   * lock expired by its leader's clock, or is missing while the lock met has outlived its TTL
   * (counted from the owner's start, against the caller's start: both TSO time), with a rollback.
   * A missing primary whose secondary is younger may still be prewritten by a live owner: alive.
   */
  private CompletableFuture<Long> ask(LockInfo lock, long callerTs, long deadline, boolean rollback) {
    long owner = lock.getStartTs();
    return RegionCall.run(ctx, new TxnRequests.CheckStatus(lock.getPrimary().toByteArray(), owner, callerTs,
        rollback), deadline).thenCompose(r -> {
          boolean expiredHere = (callerTs >>> 18) >= (owner >>> 18) + lock.getTtlMs();
          if (!rollback && ((r.hasError() && r.getError().hasTxnNotFound() && expiredHere)
              || (!r.hasError() && r.getStatus() == TxnStatus.TXN_LOCKED && r.getLockTtlMs() == 0))) {
            return ask(lock, callerTs, deadline, true);
          }
          if (r.hasError() && r.getError().hasTxnNotFound()) {
            return CompletableFuture.completedFuture(-1L);
          }
          return CompletableFuture.completedFuture(fateOf(r, owner));
        });
  }

  /** commit_ts if committed, 0 if rolled back, -1 if alive. */
  private static long fateOf(CheckTxnStatusResponse r, long owner) {
    if (r.hasError()) {
      throw new KvException("checking the status of transaction " + owner + " failed: " + r.getError().getMessage());
    }
    if (r.getStatus() == TxnStatus.TXN_COMMITTED) {
      return r.getCommitTs();
    }
    return r.getStatus() == TxnStatus.TXN_ROLLED_BACK ? 0 : -1;
  }
}
