package io.flotilla.router;

import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.Put;
import io.flotilla.router.cache.Keys;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A batch put: one kv.write per region, in parallel, each atomic in its region. A part whose keys
 * span several regions by the time it is sent (a split) is split again and its pieces sent under
 * new seqs (a put applied twice leaves the same value).
 *
 * <p>Fails with {@link OutcomeUnknownException} if any part's outcome is unknown or if some parts
 * were written and others failed; with the failure itself if nothing was written.
 */
final class BatchWriter {

  private final RouterContext ctx;
  private final TreeMap<byte[], byte[]> entries;
  private final long deadlineNanos;

  BatchWriter(RouterContext ctx, TreeMap<byte[], byte[]> entries, long deadlineNanos) {
    this.ctx = ctx;
    this.entries = entries;
    this.deadlineNanos = deadlineNanos;
  }

  CompletableFuture<Void> run() {
    return putParts(new ArrayList<>(entries.keySet()));
  }

  private CompletableFuture<Void> putParts(List<byte[]> sortedKeys) {
    return RegionGroups.of(ctx.locator(), sortedKeys).thenCompose(groups -> {
      List<CompletableFuture<Void>> parts = new ArrayList<>();
      for (List<byte[]> group : groups) {
        parts.add(putPart(group));
      }
      return combine(parts);
    });
  }

  private CompletableFuture<Void> putPart(List<byte[]> keys) {
    List<Mutation> mutations = new ArrayList<>(keys.size());
    for (byte[] k : keys) {
      mutations.add(Mutation.newBuilder().setPut(Put.newBuilder()
          .setKey(Requests.bytes(k)).setValue(Requests.bytes(entries.get(k)))).build());
    }
    String description = "batch put of " + keys.size() + " keys from " + Keys.describe(keys.get(0));
    return RegionCall.run(ctx, new Requests.Write(keys, mutations, description), deadlineNanos)
        .<Void>thenApply(outcome -> null)
        .exceptionallyCompose(error -> {
          Throwable e = RegionCall.unwrap(error);
          if (!(e instanceof RegionChangedException changed)) {
            return CompletableFuture.failedFuture(e);
          }
          CompletableFuture<Void> again = putParts(keys);
          return changed.maybeDelivered ? asUnknownOnFailure(again) : again;
        });
  }

  private static CompletableFuture<Void> combine(List<CompletableFuture<Void>> parts) {
    return CompletableFuture.allOf(parts.stream()
            .map(p -> p.handle((v, e) -> null))
            .toArray(CompletableFuture[]::new))
        .thenCompose(v -> {
          int written = 0;
          Throwable first = null;
          boolean unknown = false;
          for (CompletableFuture<Void> p : parts) {
            if (!p.isCompletedExceptionally()) {
              written++;
              continue;
            }
            Throwable e = RegionCall.unwrap(p.handle((x, err) -> err).join());
            unknown |= e instanceof OutcomeUnknownException;
            if (first == null || e instanceof OutcomeUnknownException
                && !(first instanceof OutcomeUnknownException)) {
              first = e;
            }
          }
          if (first == null) {
            return CompletableFuture.completedFuture(null);
          }
          if (unknown || written > 0) {
            return CompletableFuture.failedFuture(new OutcomeUnknownException("batch put: "
                + written + " of " + parts.size() + " region parts written, the others failed or"
                + " are unknown: " + first.getMessage(), first));
          }
          return CompletableFuture.failedFuture(first);
        });
  }

  private static CompletableFuture<Void> asUnknownOnFailure(CompletableFuture<Void> f) {
    return f.exceptionallyCompose(error -> {
      Throwable e = RegionCall.unwrap(error);
      return CompletableFuture.failedFuture(e instanceof OutcomeUnknownException ? e
          : new OutcomeUnknownException("batch put: a part that may have been applied was"
              + " split by a region change and then failed: " + e.getMessage(), e));
    });
  }
}
