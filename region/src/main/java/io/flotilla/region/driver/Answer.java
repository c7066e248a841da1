package io.flotilla.region.driver;

import java.util.concurrent.CompletableFuture;

/**
 * What a proposer waits for: the future completed with the state machine's result for its entry,
 * and the class that result must have. The one place the driver's untyped results meet their
 * proposers' types: a result of another class fails the future, never a caller's cast.
 */
record Answer<R>(Class<R> type, CompletableFuture<R> future) {

  static <R> Answer<R> of(Class<R> type) {
    return new Answer<>(type, new CompletableFuture<>());
  }

  /** Completes with {@code result} (null allowed) if it is an {@code R}; else fails, naming both. */
  void complete(long groupId, long index, Object result) {
    if (result == null || type.isInstance(result)) {
      future.complete(type.cast(result));
    } else {
      future.completeExceptionally(new IllegalStateException("group " + groupId + ": entry " + index
          + " applied with a " + result.getClass().getName() + ", its proposer expects a " + type.getName()));
    }
  }

  void completeExceptionally(Throwable e) {
    future.completeExceptionally(e);
  }
}
