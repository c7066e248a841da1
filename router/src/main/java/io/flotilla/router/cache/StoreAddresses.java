package io.flotilla.router.cache;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Store id to address, from PD's {@code getStore}, cached. One look-up per store at a time: callers
 * asking while it runs share it. A failed look-up is not kept: the next call asks again;
 * {@link #invalidate} forgets an address after a connection error, so a store that moved is found.
 *
 * <p>Threads: any thread. Addresses are resolved (DNS) on {@code executor}, never on a transport
 * thread.
 */
public final class StoreAddresses {

  private final PdClient pd;
  private final Executor executor;
  private final ConcurrentHashMap<Long, CompletableFuture<InetSocketAddress>> byId =
      new ConcurrentHashMap<>();

  public StoreAddresses(PdClient pd, Executor executor) {
    this.pd = pd;
    this.executor = executor;
  }

  /**
   * The address of store {@code storeId}; fails with {@link StoreUnavailableException} if PD says
   * it is gone, or with PD's exceptions.
   */
  public CompletableFuture<InetSocketAddress> address(long storeId) {
    CompletableFuture<InetSocketAddress> known = byId.get(storeId);
    if (known != null && !known.isCompletedExceptionally()) {
      return known;
    }
    // NB: a failed look-up stays in the map until the next call replaces it, so nothing removes
    // entries from inside a completion (which may run within compute()).
    return byId.compute(storeId, (id, current) ->
        current != null && !current.isCompletedExceptionally()
            ? current
            : pd.getStore(id).thenApplyAsync(info -> parse(id, info), executor));
  }

  /** Forgets store {@code storeId}'s address: the next call asks PD. */
  public void invalidate(long storeId) {
    byId.remove(storeId);
  }

  private static InetSocketAddress parse(long storeId, StoreInfo info) {
    if (info.getStore().getState() == StoreState.STORE_STATE_TOMBSTONE) {
      throw new StoreUnavailableException("store " + storeId + " is a tombstone");
    }
    String address = info.getStore().getAddress();
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new StoreUnavailableException("store " + storeId + " has no usable address: '"
          + address + "'");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new StoreUnavailableException("store " + storeId + " has a bad address '" + address
          + "': " + e.getMessage());
    }
  }
}
