package io.flotilla.pd;

import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.pd.server.PdConfig;
import io.flotilla.pd.server.PdServer;
import io.flotilla.region.server.Store;
import io.flotilla.region.server.StoreConfig;
import io.flotilla.router.KvClient;
import io.flotilla.router.RouterConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedding facade: one PD member and {@code n} stores in the calling process, on loopback,
 * with their data under one directory ({@code dir/pd}, {@code dir/store-1}, ...). Starting a
 * cluster again on the same directory finds its data again: the stores keep their ids and
 * regions, PD its metadata.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder(dir).stores(3).start();
 *      KvClient kv = cluster.newClient()) {
 *   kv.put("k".getBytes(), "v".getBytes());
 * }
 * }</pre>
 *
 * <p>Threads: start/stop methods are not meant to be called concurrently with each other.
 */
public final class LocalCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalCluster.class);

  private final Builder settings;
  private final PdServer pd;
  private final List<Store> stores = new ArrayList<>();
  private final List<PdClient> storePdClients = new ArrayList<>();

  private LocalCluster(Builder settings, PdServer pd) {
    this.settings = settings;
    this.pd = pd;
  }

  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  /** The PD address clients and stores use, {@code host:port}. */
  public String pdAddress() {
    return pd.address();
  }

  public PdServer pd() {
    return pd;
  }

  /** Store {@code i}, 1-based; null while it is stopped. */
  public Store store(int i) {
    return stores.get(i - 1);
  }

  public int storeCount() {
    return stores.size();
  }

  /** The ids of the running stores, in store order. */
  public List<Long> storeIds() {
    List<Long> out = new ArrayList<>();
    for (Store s : stores) {
      if (s != null) {
        out.add(s.storeId());
      }
    }
    return out;
  }

  /** The running store with this id, or null. */
  public Store storeById(long storeId) {
    for (Store s : stores) {
      if (s != null && s.storeId() == storeId) {
        return s;
      }
    }
    return null;
  }

  /** The running stores' addresses, in store order ({@code "-"} for a stopped one). */
  public List<String> storeAddresses() {
    List<String> out = new ArrayList<>();
    for (Store s : stores) {
      out.add(s == null ? "-" : s.address());
    }
    return out;
  }

  /** The data directory of store {@code i}, 1-based. */
  public Path storeDir(int i) {
    return settings.dir.resolve("store-" + i);
  }

  /** A new router client for this cluster (the caller closes it). */
  public KvClient newClient() {
    return newClient(UnaryOperator.identity());
  }

  /** A new router client with adjusted settings (the caller closes it). */
  public KvClient newClient(UnaryOperator<RouterConfig> adjust) {
    return KvClient.connect(adjust.apply(RouterConfig.defaults(List.of(HostPort.parse(pdAddress(), false)))));
  }

  /** A new PD client for this cluster (the caller closes it). */
  public PdClient newPdClient() {
    return new RemotePdClient(List.of(pdAddress()));
  }

  /** Stops store {@code i} (1-based), as a clean shutdown. */
  public void stopStore(int i) {
    Store s = stores.set(i - 1, null);
    if (s != null) {
      s.close();
      storePdClients.get(i - 1).close();
      LOG.info("local cluster: store {} stopped", s.storeId());
    }
  }

  /** Starts store {@code i} (1-based) again on its data directory and port. */
  public Store restartStore(int i) {
    if (stores.get(i - 1) != null) {
      throw new IllegalStateException("store " + i + " is running");
    }
    Store s = startStore(i, portOf(i));
    stores.set(i - 1, s);
    return s;
  }

  /** Starts one more store (the next number, its own directory and port); returns it. */
  public Store addStore() {
    int i = stores.size() + 1;
    Store s = startStore(i, portOf(i));
    stores.add(s);
    LOG.info("local cluster: store {} added at {}", s.storeId(), s.address());
    return s;
  }

  private int portOf(int i) {
    return settings.storeBasePort == 0 ? 0 : settings.storeBasePort + i - 1;
  }

  private Store startStore(int i, int port) {
    StoreConfig config = StoreConfig.defaults(storeDir(i))
        .withListen(new InetSocketAddress("127.0.0.1", port))
        .withBootstrapReplicas(Math.min(3, settings.stores));
    config = settings.storeConfig.apply(config);
    PdClient client = new RemotePdClient(List.of(pdAddress()));
    try {
      Store s = Store.start(config, client);
      if (storePdClients.size() < i) {
        storePdClients.add(client);
      } else {
        storePdClients.set(i - 1, client);
      }
      return s;
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  @Override
  public void close() {
    for (int i = stores.size(); i >= 1; i--) {
      try {
        stopStore(i);
      } catch (RuntimeException e) {
        LOG.warn("local cluster: store {} did not stop cleanly: {}", i, e.toString());
      }
    }
    pd.close();
    LOG.info("local cluster stopped [dir={}]", settings.dir);
  }

  /** What to start; {@link #start()} starts it. */
  public static final class Builder {
    private final Path dir;
    private int stores = 3;
    private int pdPort;
    private int storeBasePort;
    private UnaryOperator<StoreConfig> storeConfig = UnaryOperator.identity();
    private UnaryOperator<PdConfig> pdConfig = UnaryOperator.identity();

    private Builder(Path dir) {
      this.dir = Objects.requireNonNull(dir, "dir");
    }

    /** Number of stores, at least 1 (default 3). Regions get min(3, stores) replicas. */
    public Builder stores(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("stores: must be in [1, 64], got " + n);
      }
      this.stores = n;
      return this;
    }

    /** PD's port on 127.0.0.1; 0 (default) picks a free one. */
    public Builder pdPort(int port) {
      this.pdPort = checkPort("pdPort", port);
      return this;
    }

    /** Store i listens on {@code base + i - 1}; 0 (default) picks free ports. */
    public Builder storeBasePort(int port) {
      this.storeBasePort = checkPort("storeBasePort", port);
      return this;
    }

    /** Adjusts every store's configuration (tests: tiny split thresholds, short heartbeats). */
    public Builder storeConfig(UnaryOperator<StoreConfig> f) {
      this.storeConfig = Objects.requireNonNull(f);
      return this;
    }

    public Builder pdConfig(UnaryOperator<PdConfig> f) {
      this.pdConfig = Objects.requireNonNull(f);
      return this;
    }

    private static int checkPort(String name, int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException(name + ": must be in [0, 65535], got " + port);
      }
      return port;
    }

    /** Starts PD and the stores; returns once all are serving (the first region may still be electing). */
    public LocalCluster start() {
      PdConfig pc = PdConfig.singleMember(dir.resolve("pd")).withListenAddress("127.0.0.1:" + pdPort);
      PdServer pd = PdServer.start(pdConfig.apply(pc));
      LocalCluster cluster = new LocalCluster(this, pd);
      try {
        for (int i = 1; i <= stores; i++) {
          cluster.stores.add(cluster.startStore(i, cluster.portOf(i)));
        }
      } catch (RuntimeException e) {
        cluster.close();
        throw e;
      }
      LOG.info("local cluster started: PD at {}, {} stores at {} [dir={}]", cluster.pdAddress(), stores,
          cluster.storeAddresses(), dir);
      return cluster;
    }
  }
}
