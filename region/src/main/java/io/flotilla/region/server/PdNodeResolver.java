package io.flotilla.region.server;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.transport.NodeResolver;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves store ids to addresses through {@link PdClient#getStore}, from a cache: never blocks.
 * A miss (or an entry older than the refresh interval) starts one look-up in the background and
 * answers what the cache has (null on a miss: the transport's dial fails and retries, by then the
 * address is known). The transport resolves only when it dials, so an entry older than a second is
 * refreshed then. When a look-up brings an address that is new or differs from the cached one, the
 * subscribed transport hears of it ({@link NodeResolver#subscribe}) and re-dials that store at once:
 * a store restarted on another port is reached as soon as PD knows it, not after the reconnect
 * backoff.
 *
 * <p>Threads: any.
 */
final class PdNodeResolver implements NodeResolver {
  private static final Logger LOG = LoggerFactory.getLogger(PdNodeResolver.class);
  private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

  private record Cached(InetSocketAddress address, long fetchedNanos) {}

  private final PdClient pd;
  private final Map<Long, Cached> cache = new ConcurrentHashMap<>();
  private final Map<Long, Boolean> inFlight = new ConcurrentHashMap<>();
  private volatile LongConsumer addressChanged = id -> { };

  PdNodeResolver(PdClient pd) {
    this.pd = pd;
  }

  @Override
  public InetSocketAddress resolve(long nodeId) {
    Cached c = cache.get(nodeId);
    if (c == null || System.nanoTime() - c.fetchedNanos() > REFRESH_NANOS) {
      fetch(nodeId);
    }
    return c == null ? null : c.address();
  }

  @Override
  public void subscribe(LongConsumer listener) {
    addressChanged = listener;
  }

  /** Records an address known without asking PD (e.g. this store's own). */
  void put(long nodeId, InetSocketAddress address) {
    cache.put(nodeId, new Cached(address, System.nanoTime()));
  }

  private void fetch(long nodeId) {
    if (inFlight.putIfAbsent(nodeId, Boolean.TRUE) != null) {
      return;
    }
    try {
      pd.getStore(nodeId).whenComplete((info, ex) -> {
        inFlight.remove(nodeId);
        if (ex != null) {
          LOG.debug("cannot resolve store {} through PD: {}", nodeId, ex.toString());
          return;
        }
        InetSocketAddress a = parse(info);
        if (a != null) {
          Cached before = cache.put(nodeId, new Cached(a, System.nanoTime()));
          if (before == null || !a.equals(before.address())) {
            addressChanged.accept(nodeId);
          }
        }
      });
    } catch (RuntimeException e) {
      inFlight.remove(nodeId);
      LOG.debug("cannot resolve store {} through PD: {}", nodeId, e.toString());
    }
  }

  static InetSocketAddress parse(StoreInfo info) {
    String addr = info.getStore().getAddress();
    int colon = addr.lastIndexOf(':');
    if (colon <= 0) {
      LOG.warn("store {} is registered with address '{}', not host:port", info.getStore().getId(), addr);
      return null;
    }
    return new InetSocketAddress(addr.substring(0, colon), Integer.parseInt(addr.substring(colon + 1)));
  }
}
