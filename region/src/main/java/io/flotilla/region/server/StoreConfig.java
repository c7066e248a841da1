package io.flotilla.region.server;

import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.storage.StorageConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of a {@link Store}. Immutable; start from {@link #defaults} and change a setting with
 * its {@code with...} method. {@link #validate()} names the first bad setting and its allowed
 * values.
 *
 * @param dataDir the store's directory: RocksDB in {@code db/}, the store id in {@code store.id},
 *     snapshots being applied in {@code snap/}
 * @param listen where the transport listens (port 0: any free port)
 * @param advertiseAddress host:port registered with PD; empty: the bound address
 * @param bootstrapReplicas Up stores PD must list before the first region is created, and its
 *     replica count
 * @param maxKeyBytes largest key ({@code max-key-bytes})
 * @param maxValueBytes largest value ({@code max-value-bytes})
 * @param maxWriteBytes largest write request, all mutations together ({@code max-write-bytes})
 * @param scanPageSize pairs a scan returns when its limit is 0
 * @param splitSize approximate bytes past which a region is split
 * @param splitKeys approximate keys past which a region is split
 * @param splitCheckInterval how often leaders compare their regions with the split thresholds
 * @param regionHeartbeatInterval how often a leader reports each region to PD
 * @param storeHeartbeatInterval how often the store reports itself to PD
 * @param pdRetryInterval delay between attempts while PD is unreachable (start-up, bootstrap)
 * @param storage RocksDB settings; its data dir is replaced by {@code dataDir/db}
 * @param transport transport settings; {@code maxFrameBytes} is raised to fit a largest write
 * @param driver Raft driver settings
 */
public record StoreConfig(
    Path dataDir,
    InetSocketAddress listen,
    String advertiseAddress,
    int bootstrapReplicas,
    int maxKeyBytes,
    int maxValueBytes,
    int maxWriteBytes,
    int scanPageSize,
    long splitSize,
    long splitKeys,
    Duration splitCheckInterval,
    Duration regionHeartbeatInterval,
    Duration storeHeartbeatInterval,
    Duration pdRetryInterval,
    StorageConfig storage,
    TransportConfig transport,
    DriverConfig driver) {

  /** Bytes of framing around a write request in an RPC or Raft frame, with room to spare. */
  static final int FRAME_OVERHEAD = 1 << 20;

  public static StoreConfig defaults(Path dataDir) {
    return new StoreConfig(dataDir, new InetSocketAddress("127.0.0.1", 20160), "", 3,
        8 * 1024, 8 << 20, 16 << 20, 256, 96L << 20, 960_000,
        Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMillis(500),
        StorageConfig.defaults(dataDir.resolve("db")), TransportConfig.defaults(), DriverConfig.defaults());
  }

  /**
   * Checks every setting.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException naming the first bad setting and its allowed values
   */
  public StoreConfig validate() {
    if (dataDir == null) {
      throw new IllegalArgumentException("dataDir: must be a directory path, got null");
    }
    if (listen == null) {
      throw new IllegalArgumentException("listen: must be a host and port (port 0: any), got null");
    }
    if (advertiseAddress == null || (!advertiseAddress.isEmpty() && !advertiseAddress.matches(".+:\\d{1,5}"))) {
      throw new IllegalArgumentException("advertiseAddress: must be empty or host:port, got " + advertiseAddress);
    }
    check("bootstrapReplicas", bootstrapReplicas, 1, 7);
    check("maxKeyBytes", maxKeyBytes, 1, 1 << 20);
    check("maxValueBytes", maxValueBytes, 1, 1 << 30);
    check("maxWriteBytes", maxWriteBytes, 1, (1 << 30));
    check("scanPageSize", scanPageSize, 1, 1 << 20);
    check("splitSize", splitSize, 1, Long.MAX_VALUE);
    check("splitKeys", splitKeys, 1, Long.MAX_VALUE);
    checkPositive("splitCheckInterval", splitCheckInterval);
    checkPositive("regionHeartbeatInterval", regionHeartbeatInterval);
    checkPositive("storeHeartbeatInterval", storeHeartbeatInterval);
    checkPositive("pdRetryInterval", pdRetryInterval);
    if (storage == null || transport == null || driver == null) {
      throw new IllegalArgumentException("storage, transport and driver: must be set (start from defaults), got "
          + storage + ", " + transport + ", " + driver);
    }
    storageConfig().validate();
    transportConfig().validate();
    driver.validate();
    return this;
  }

  /** The storage settings with the data dir under {@link #dataDir}. */
  public StorageConfig storageConfig() {
    return storage.withDataDir(dataDir.resolve("db"));
  }

  /** The transport settings with frames large enough for the largest write. */
  public TransportConfig transportConfig() {
    long needed = (long) maxWriteBytes + FRAME_OVERHEAD;
    if (transport.maxFrameBytes() >= needed) {
      return transport;
    }
    return transport.withMaxFrameBytes((int) Math.min(Integer.MAX_VALUE - 8, needed));
  }

  private static void check(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + ": must be in [" + min + ", " + max + "], got " + value);
    }
  }

  private static void checkPositive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + ": must be a positive duration, got " + d);
    }
  }

  public StoreConfig withListen(InetSocketAddress v) {
    return new StoreConfig(dataDir, v, advertiseAddress, bootstrapReplicas, maxKeyBytes, maxValueBytes, maxWriteBytes,
        scanPageSize, splitSize, splitKeys, splitCheckInterval, regionHeartbeatInterval, storeHeartbeatInterval,
        pdRetryInterval, storage, transport, driver);
  }

  public StoreConfig withBootstrapReplicas(int v) {
    return new StoreConfig(dataDir, listen, advertiseAddress, v, maxKeyBytes, maxValueBytes, maxWriteBytes,
        scanPageSize, splitSize, splitKeys, splitCheckInterval, regionHeartbeatInterval, storeHeartbeatInterval,
        pdRetryInterval, storage, transport, driver);
  }

  public StoreConfig withLimits(int keyBytes, int valueBytes, int writeBytes) {
    return new StoreConfig(dataDir, listen, advertiseAddress, bootstrapReplicas, keyBytes, valueBytes, writeBytes,
        scanPageSize, splitSize, splitKeys, splitCheckInterval, regionHeartbeatInterval, storeHeartbeatInterval,
        pdRetryInterval, storage, transport, driver);
  }

  public StoreConfig withSplit(long size, long keys, Duration checkInterval) {
    return new StoreConfig(dataDir, listen, advertiseAddress, bootstrapReplicas, maxKeyBytes, maxValueBytes,
        maxWriteBytes, scanPageSize, size, keys, checkInterval, regionHeartbeatInterval, storeHeartbeatInterval,
        pdRetryInterval, storage, transport, driver);
  }

  public StoreConfig withHeartbeats(Duration region, Duration store) {
    return new StoreConfig(dataDir, listen, advertiseAddress, bootstrapReplicas, maxKeyBytes, maxValueBytes,
        maxWriteBytes, scanPageSize, splitSize, splitKeys, splitCheckInterval, region, store, pdRetryInterval,
        storage, transport, driver);
  }

  public StoreConfig withPdRetryInterval(Duration v) {
    return new StoreConfig(dataDir, listen, advertiseAddress, bootstrapReplicas, maxKeyBytes, maxValueBytes,
        maxWriteBytes, scanPageSize, splitSize, splitKeys, splitCheckInterval, regionHeartbeatInterval,
        storeHeartbeatInterval, v, storage, transport, driver);
  }

  public StoreConfig withStorage(StorageConfig v) {
    return new StoreConfig(dataDir, listen, advertiseAddress, bootstrapReplicas, maxKeyBytes, maxValueBytes,
        maxWriteBytes, scanPageSize, splitSize, splitKeys, splitCheckInterval, regionHeartbeatInterval,
        storeHeartbeatInterval, pdRetryInterval, v, transport, driver);
  }

  public StoreConfig withTransport(TransportConfig v) {
    return new StoreConfig(dataDir, listen, advertiseAddress, bootstrapReplicas, maxKeyBytes, maxValueBytes,
        maxWriteBytes, scanPageSize, splitSize, splitKeys, splitCheckInterval, regionHeartbeatInterval,
        storeHeartbeatInterval, pdRetryInterval, storage, v, driver);
  }

  public StoreConfig withDriver(DriverConfig v) {
    return new StoreConfig(dataDir, listen, advertiseAddress, bootstrapReplicas, maxKeyBytes, maxValueBytes,
        maxWriteBytes, scanPageSize, splitSize, splitKeys, splitCheckInterval, regionHeartbeatInterval,
        storeHeartbeatInterval, pdRetryInterval, storage, transport, v);
  }
}
