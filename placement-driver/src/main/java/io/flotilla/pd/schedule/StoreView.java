package io.flotilla.pd.schedule;

import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;

/**
 * A store as the schedulers see it: its replicated record, its last reported statistics (default
 * values when it has not reported to this leader) and how long it has been silent (since its last
 * heartbeat, or since this member became leader if it has not heard from it).
 */
public record StoreView(Store store, StoreStats stats, long silentMs) {
  public long id() {
    return store.getId();
  }

  public StoreState state() {
    return store.getState();
  }

  public boolean isUp() {
    return store.getState() == StoreState.STORE_STATE_UP;
  }

  /** No heartbeat for longer than {@code maxDownMs}. */
  public boolean isDown(long maxDownMs) {
    return store.getState() != StoreState.STORE_STATE_TOMBSTONE && silentMs > maxDownMs;
  }
}
