package io.flotilla.router;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.router.cache.CachedRegion;
import io.flotilla.router.cache.RegionLocator;
import java.util.concurrent.CompletableFuture;

/**
 * One request to one region, as {@link RegionCall} retries it: how to find its region, how to
 * encode it for a given region and how to read the answer. Implementations are not shared between
 * calls; {@link RegionCall} uses one from one thread at a time.
 *
 * @param <R> what the call completes with
 */
interface RegionRequest<R> {

  /** The answer of a store: a KvError or a value. */
  record Reply<R>(KvError error, R value) {
    static <R> Reply<R> of(KvError error, boolean hasError, R value) {
      return hasError ? new Reply<>(error, null) : new Reply<>(null, value);
    }
  }

  /** The RPC method, one of the {@code kv.*} names. */
  String method();

  /** Writes carry (client id, seq) and may end in {@link OutcomeUnknownException}. */
  boolean isWrite();

  /** Finds the region to send to (from the cache, or PD). */
  CompletableFuture<CachedRegion> locate(RegionLocator locator);

  /**
   * Whether the request can be sent to {@code region} as it is; false when its keys now span
   * several regions, and the caller must split it again ({@link RegionChangedException}).
   */
  default boolean fits(CachedRegion region) {
    return true;
  }

  byte[] encode(RequestContext context, CachedRegion region, long clientId, long seq, long minPendingSeq);

  Reply<R> decode(CachedRegion region, byte[] response) throws InvalidProtocolBufferException;

  /**
   * The store could not send the answer (larger than a frame): make the request ask for less and
   * return true, or return false if it cannot.
   */
  default boolean shrink() {
    return false;
  }

  /** For messages: what this is, e.g. {@code get 'k'}. */
  String describe();
}
