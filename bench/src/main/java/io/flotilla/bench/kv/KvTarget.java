package io.flotilla.bench.kv;

import io.flotilla.bench.BenchException;
import io.flotilla.engine.client.HostPort;
import io.flotilla.pd.LocalCluster;
import io.flotilla.region.server.Store;
import io.flotilla.region.storage.StorageCounters;
import io.flotilla.router.AsyncKvClient;
import io.flotilla.router.KvException;
import io.flotilla.router.RouterConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster the load goes to and the router client that sends it: either PD and the stores
 * started in this JVM ({@link LocalCluster}), whose storage counters the report reads, or a
 * running cluster reached through its PD members.
 *
 * <p>Threads: created, read and closed by the bench's main thread; {@link #client()} from any.
 */
public final class KvTarget implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KvTarget.class);

  /** Log entries written and fsyncs, summed over the embedded stores' storage; monotonic. */
  record StorageTotals(long entriesWritten, long fsyncs) {
    StorageTotals minus(StorageTotals o) {
      return new StorageTotals(entriesWritten - o.entriesWritten, fsyncs - o.fsyncs);
    }
  }

  private final LocalCluster cluster;
  private final AsyncKvClient client;
  private final String pd;

  private KvTarget(LocalCluster cluster, AsyncKvClient client, String pd) {
    this.cluster = cluster;
    this.client = client;
    this.pd = pd;
  }

  /**
   * Starts PD and {@code stores} stores in this JVM, with their data under {@code dir};
   * {@code presplit}: region heartbeats every second instead of 10 (PD's split and leader-balance
   * steps travel in their answers), so a pre-split settles in seconds.
   */
  public static KvTarget embedded(Path dir, int stores, boolean fsync, boolean presplit) {
    LocalCluster cluster;
    try {
      cluster = LocalCluster.builder(dir).stores(stores)
          .storeConfig(c -> {
            c = c.withStorage(c.storage().withFsync(fsync));
            return presplit ? c.withHeartbeats(Duration.ofSeconds(1), c.storeHeartbeatInterval()) : c;
          })
          .start();
    } catch (RuntimeException e) {
      throw new BenchException("the embedded cluster did not start: " + e.getMessage(), e);
    }
    try {
      InetSocketAddress pd = HostPort.parse(cluster.pdAddress(), false);
      return new KvTarget(cluster, AsyncKvClient.connect(RouterConfig.defaults(List.of(pd))), cluster.pdAddress());
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** A client of the running cluster whose PD members are {@code pdAddresses}. */
  public static KvTarget remote(List<InetSocketAddress> pdAddresses, String pd) {
    try {
      return new KvTarget(null, AsyncKvClient.connect(RouterConfig.defaults(pdAddresses)), pd);
    } catch (KvException | IllegalArgumentException e) {
      throw new BenchException("cannot connect to PD " + pd + ": " + e.getMessage(), e);
    }
  }

  AsyncKvClient client() {
    return client;
  }

  public boolean embedded() {
    return cluster != null;
  }

  /** The PD members the client asks. */
  public String pd() {
    return pd;
  }

  /**
   * Waits until a get is answered: the first region has a leader and the client can reach it.
   *
   * @throws BenchException with the last failure if none is answered within {@code timeout}
   */
  public void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    byte[] probe = KeySpace.key(0);
    Throwable last = null;
    while (System.nanoTime() - deadline < 0) {
      try {
        client.get(probe).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return;
      } catch (ExecutionException e) {
        last = e.getCause();
        LOG.debug("cluster not ready yet: {}", last.toString());
        sleepMillis(100);
      } catch (TimeoutException e) {
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BenchException("interrupted");
      }
    }
    throw new BenchException("no get was answered within " + timeout.toSeconds() + " s (PD " + pd
        + (embedded() ? ", embedded cluster" : "; is a cluster running there?") + ")"
        + (last == null ? "" : ": " + last.getMessage()), last);
  }

  /** The embedded stores' storage counters, summed; null when the cluster is remote. */
  StorageTotals storageTotals() {
    if (cluster == null) {
      return null;
    }
    long entries = 0;
    long fsyncs = 0;
    for (int i = 1; i <= cluster.storeCount(); i++) {
      Store s = cluster.store(i);
      if (s != null) {
        StorageCounters c = s.node().storage().counters();
        entries += c.entriesWritten();
        fsyncs += c.fsyncs();
      }
    }
    return new StorageTotals(entries, fsyncs);
  }

  /** One embedded store's WAL before a restart and how long the restart took. */
  record Restart(long storeId, long walBytes, long dataDirBytes, Duration took) {}

  /**
   * Stops each embedded store in turn (a clean shutdown: RocksDB replays its WAL on start) and starts
   * it again on its data, timing {@code Store.start}: opening RocksDB, replaying the WAL, loading
   * every region. The client keeps working through the other stores meanwhile.
   */
  List<Restart> restartStores() {
    if (cluster == null) {
      throw new IllegalStateException("restartStores needs the embedded cluster");
    }
    List<Restart> out = new java.util.ArrayList<>();
    for (int i = 1; i <= cluster.storeCount(); i++) {
      Store s = cluster.store(i);
      long wal = s.node().storage().walBytes();
      long dirBytes = io.flotilla.bench.BenchFiles.sizeOf(cluster.storeDir(i));
      cluster.stopStore(i);
      long t0 = System.nanoTime();
      Store again = cluster.restartStore(i);
      out.add(new Restart(again.storeId(), wal, dirBytes, Duration.ofNanos(System.nanoTime() - t0)));
    }
    return out;
  }

  static void sleepMillis(long ms) {
    try {
      TimeUnit.MILLISECONDS.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    }
  }

  /** Closes the client, then the embedded cluster if there is one. */
  @Override
  public void close() {
    try {
      client.close();
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }
}
