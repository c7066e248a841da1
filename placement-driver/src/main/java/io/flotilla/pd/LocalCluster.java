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
import io.flotilla.router.TxnClient;
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
  /** PD members by member id; a stopped one is absent. */
  private final java.util.TreeMap<Long, PdServer> pds = new java.util.TreeMap<>();
  private final java.util.TreeMap<Long, String> pdAddresses = new java.util.TreeMap<>();
  private final List<Store> stores = new ArrayList<>();
  private final List<PdClient> storePdClients = new ArrayList<>();

  private LocalCluster(Builder settings) {
    this.settings = settings;
  }

  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  /** The PD address clients and stores use: {@code host:port}, comma-separated with several members. */
  public String pdAddress() {
    return String.join(",", pdAddresses.values());
  }

  private List<InetSocketAddress> pdSocketAddresses() {
    List<InetSocketAddress> out = new ArrayList<>();
    for (String a : pdAddresses.values()) {
      out.add(HostPort.parse(a, false));
    }
    return out;
  }

  /** The first running PD member. */
  public PdServer pd() {
    return pds.firstEntry().getValue();
  }

  /** The running PD members by member id. */
  public java.util.Map<Long, PdServer> pdMembers() {
    return java.util.Collections.unmodifiableMap(pds);
  }

  /** Stops PD member {@code memberId} (a clean shutdown). */
  public void stopPd(long memberId) {
    PdServer p = pds.remove(memberId);
    if (p != null) {
      p.close();
      LOG.info("local cluster: PD member {} stopped", memberId);
    }
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
    return KvClient.connect(adjust.apply(RouterConfig.defaults(pdSocketAddresses())));
  }

  /** A new transaction client for this cluster, with its own router and PD clients (the caller closes it). */
  public TxnClient newTxnClient() {
    return newTxnClient(TxnClient.Settings.defaults());
  }

  /** {@link #newTxnClient()} with other transaction settings. */
  public TxnClient newTxnClient(TxnClient.Settings settings) {
    return TxnClient.connect(RouterConfig.defaults(pdSocketAddresses()), settings);
  }

  /** Cuts the key space so that each of {@code boundaries} starts a region (PD split operators). */
  public void splitAt(List<byte[]> boundaries, java.time.Duration timeout) {
    try (RemotePdClient pd = new RemotePdClient(new ArrayList<>(pdAddresses.values()))) {
      RegionSplits.splitAt(pd, boundaries, timeout);
    }
  }

  /** A new PD client for this cluster (the caller closes it). */
  public PdClient newPdClient() {
    return new RemotePdClient(new ArrayList<>(pdAddresses.values()));
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
    PdClient client = new RemotePdClient(new ArrayList<>(pdAddresses.values()));
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
    for (long id : new ArrayList<>(pds.keySet())) {
      stopPd(id);
    }
    LOG.info("local cluster stopped [dir={}]", settings.dir);
  }

  /** What to start; {@link #start()} starts it. */
  public static final class Builder {
    private final Path dir;
    private int stores = 3;
    private int pdPort;
    private int pdMembers = 1;
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

    /**
     * PD members: 1 (default), 3 or 5. With more than one, each listens on a free port on 127.0.0.1
     * and {@link #pdPort} is not used.
     */
    public Builder pdMembers(int n) {
      if (n != 1 && n != 3 && n != 5) {
        throw new IllegalArgumentException("pdMembers: must be 1, 3 or 5, got " + n);
      }
      this.pdMembers = n;
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

    private void startPd(LocalCluster cluster) {
      if (pdMembers == 1) {
        PdConfig pc = PdConfig.singleMember(dir.resolve("pd")).withListenAddress("127.0.0.1:" + pdPort);
        PdServer pd = PdServer.start(pdConfig.apply(pc));
        cluster.pds.put(pd.memberId(), pd);
        cluster.pdAddresses.put(pd.memberId(), pd.address());
        return;
      }
      // NB: members must know each other's ports before they bind them; a port taken in between
      // fails the start, and then all start over on new ports.
      for (int attempt = 1; ; attempt++) {
        java.util.Map<Long, String> members = new java.util.TreeMap<>();
        for (long id = 1; id <= pdMembers; id++) {
          members.put(id, "127.0.0.1:" + freePort());
        }
        try {
          for (long id = 1; id <= pdMembers; id++) {
            PdConfig pc = PdConfig.singleMember(dir.resolve("pd-" + id)).withMemberId(id)
                .withListenAddress(members.get(id)).withMembers(members);
            cluster.pds.put(id, PdServer.start(pdConfig.apply(pc)));
          }
          cluster.pdAddresses.putAll(members);
          return;
        } catch (RuntimeException e) {
          cluster.pds.values().forEach(PdServer::close);
          cluster.pds.clear();
          if (attempt == 5 || !String.valueOf(e.getMessage()).contains("cannot listen")) {
            throw e;
          }
        }
      }
    }

    private static int freePort() {
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        return s.getLocalPort();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    private static int checkPort(String name, int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException(name + ": must be in [0, 65535], got " + port);
      }
      return port;
    }

    /** Starts PD and the stores; returns once all are serving (the first region may still be electing). */
    public LocalCluster start() {
      LocalCluster cluster = new LocalCluster(this);
      try {
        startPd(cluster);
      } catch (RuntimeException e) {
        cluster.close();
        throw e;
      }
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
