package io.flotilla.router;

import java.util.concurrent.CompletableFuture;

/**
 * Where transactions get their timestamps: PD's timestamp oracle (hybrid: physical milliseconds
 * shifted left 18 bits, plus a logical counter), strictly increasing across the cluster.
 */
@FunctionalInterface
public interface TimestampOracle {
  /** A timestamp greater than every one handed out before this call. */
  CompletableFuture<Long> next();
}
