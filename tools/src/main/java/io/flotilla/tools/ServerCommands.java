package io.flotilla.tools;

import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.pd.server.PdConfig;
import io.flotilla.pd.server.PdServer;
import io.flotilla.region.server.Store;
import io.flotilla.region.server.StoreConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flotilla pd} and {@code flotilla store}: server processes run from a config file until stopped. */
final class ServerCommands {
  private ServerCommands() {}

  /** Blocks until the JVM is asked to stop (Ctrl-C, SIGTERM), then closes {@code server}. */
  static void runUntilStopped(AutoCloseable server, String what) {
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      System.err.println(what + ": stopping");
      try {
        server.close();
      } catch (Exception e) {
        System.err.println(what + ": did not stop cleanly: " + e);
      }
      stopped.countDown();
    }, "flotilla-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static InetSocketAddress listenAddress(ConfigFile f, String key, String dflt) {
    String v = f.string(key, dflt);
    try {
      return HostPort.parse(v, true);
    } catch (IllegalArgumentException e) {
      throw f.bad(key, "must be host:port with a port in [0, 65535]", v);
    }
  }

  @Command(name = "pd", mixinStandardHelpOptions = true,
      description = {"Run a placement driver member from a config file until stopped.",
          "Settings (key = value): member-id (default 1), listen (default 127.0.0.1:2379),",
          "members (id=host:port,... every member, this one included; empty for one member),",
          "data-dir (required), fsync (default true), max-store-down-time (default 30m)."})
  static final class Pd implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The config file.")
    Path config;

    @Override
    public Integer call() {
      PdConfig pc = parse(ConfigFile.read(config));
      PdServer server;
      try {
        server = PdServer.start(pc);
      } catch (IllegalArgumentException e) {
        throw new ToolException("config " + config + ": " + e.getMessage());
      }
      System.out.println("PD: " + server.address());
      System.out.flush();
      runUntilStopped(server, "pd");
      return 0;
    }

    static PdConfig parse(ConfigFile f) {
      long memberId = f.integer("member-id", 1, 1, Long.MAX_VALUE);
      String listen = HostPort.format(listenAddress(f, "listen", "127.0.0.1:2379"));
      Map<Long, String> members = new LinkedHashMap<>();
      for (String m : f.list("members", List.of())) {
        int eq = m.indexOf('=');
        try {
          long id = Long.parseLong(m.substring(0, eq).trim());
          members.put(id, HostPort.format(HostPort.parse(m.substring(eq + 1).trim(), false)));
        } catch (RuntimeException e) {
          throw f.bad("members", "must be a comma-separated list of id=host:port", m);
        }
      }
      Path dataDir = Path.of(f.required("data-dir", "the directory of this member's RocksDB"));
      boolean fsync = f.bool("fsync", true);
      Duration down = f.duration("max-store-down-time",
          Duration.ofMillis(PdConfig.DEFAULT_MAX_STORE_DOWN_TIME_MS), Duration.ofSeconds(1));
      f.checkNoneUnknown();
      return PdConfig.singleMember(dataDir).withMemberId(memberId).withListenAddress(listen).withMembers(members)
          .withFsync(fsync).withMaxStoreDownTimeMs(down.toMillis());
    }
  }

  @Command(name = "store", mixinStandardHelpOptions = true,
      description = {"Run a store (a node hosting regions) from a config file until stopped.",
          "Settings (key = value): data-dir (required), pd (host:port,... default 127.0.0.1:2379),",
          "listen (default 127.0.0.1:20160), advertise-address (default: the listen address),",
          "bootstrap-replicas (default 3), split-size (default 96MiB), split-keys (default 960000),",
          "split-check-interval (default 10s),",
          "max-key-bytes (8KiB), max-value-bytes (8MiB), max-write-bytes (16MiB), fsync (default true),",
          "region-heartbeat-interval (default 10s), store-heartbeat-interval (default 10s),",
          "max-total-wal-size (default 128MiB: past it RocksDB flushes the families pinning old WAL files),",
          "raft-log-compact-after-entries (default 10000: applied entries a region's log keeps)."})
  static final class StoreServer implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The config file.")
    Path config;

    @Override
    public Integer call() {
      ConfigFile f = ConfigFile.read(config);
      List<String> pd = f.list("pd", List.of("127.0.0.1:2379"));
      StoreConfig sc = parse(f);
      RemotePdClient client = new RemotePdClient(pd);
      Store store;
      try {
        store = Store.start(sc, client);
      } catch (IllegalArgumentException e) {
        client.close();
        throw new ToolException("config " + config + ": " + e.getMessage());
      }
      System.out.println("Store " + store.storeId() + ": " + store.address() + " (PD " + String.join(",", pd) + ")");
      System.out.flush();
      runUntilStopped(() -> {
        store.close();
        client.close();
      }, "store");
      return 0;
    }

    static StoreConfig parse(ConfigFile f) {
      Path dataDir = Path.of(f.required("data-dir", "the directory of this store's data"));
      StoreConfig d = StoreConfig.defaults(dataDir);
      InetSocketAddress listen = listenAddress(f, "listen", "127.0.0.1:20160");
      String advertise = f.string("advertise-address", "");
      int replicas = (int) f.integer("bootstrap-replicas", d.bootstrapReplicas(), 1, 7);
      long splitSize = f.size("split-size", d.splitSize(), 1024);
      long splitKeys = f.integer("split-keys", d.splitKeys(), 2, Long.MAX_VALUE);
      Duration splitCheck = f.duration("split-check-interval", d.splitCheckInterval(), Duration.ofMillis(10));
      int maxKey = (int) f.size("max-key-bytes", d.maxKeyBytes(), 1);
      int maxValue = (int) f.size("max-value-bytes", d.maxValueBytes(), 1);
      int maxWrite = (int) f.size("max-write-bytes", d.maxWriteBytes(), 1);
      boolean fsync = f.bool("fsync", true);
      Duration regionHeartbeat = f.duration("region-heartbeat-interval", d.regionHeartbeatInterval(),
          Duration.ofMillis(100));
      Duration storeHeartbeat = f.duration("store-heartbeat-interval", d.storeHeartbeatInterval(),
          Duration.ofMillis(100));
      long maxWal = f.size("max-total-wal-size", d.storage().maxTotalWalBytes(), 1L << 20);
      long compactAfter = f.integer("raft-log-compact-after-entries", d.driver().compactLogAfterEntries(), 1,
          Long.MAX_VALUE);
      f.list("pd", List.of()); // read by the caller; known here
      f.checkNoneUnknown();
      StoreConfig c = new StoreConfig(dataDir, listen, advertise, replicas, maxKey, maxValue, maxWrite,
          d.scanPageSize(), splitSize, splitKeys, splitCheck, regionHeartbeat, storeHeartbeat, d.pdRetryInterval(),
          d.storage().withFsync(fsync).withMaxTotalWalBytes(maxWal), d.transport(),
          d.driver().withCompactLogAfterEntries(compactAfter));
      try {
        return c.validate();
      } catch (IllegalArgumentException e) {
        throw new ToolException("config " + f.path() + ": " + e.getMessage());
      }
    }
  }
}
