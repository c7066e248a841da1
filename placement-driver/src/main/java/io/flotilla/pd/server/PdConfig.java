package io.flotilla.pd.server;

import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.raft.ReadOnlyOption;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.storage.StorageConfig;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Settings of one PD member. Immutable; start from {@link #singleMember(Path)} and change with the
 * {@code with...} methods. {@link #validate()} (called by {@link PdServer#start}) names the first
 * bad setting and its allowed values.
 *
 * @param memberId this member's id: its node id and its Raft peer id in PD's group
 * @param listenAddress where this member listens ({@code host:port}), for clients and the other
 *     members alike; port 0 picks a free port (single member only)
 * @param members every member's id and advertised {@code host:port}, this one included; empty for a
 *     single member advertised at its listen address
 * @param dataDir this member's RocksDB directory
 * @param fsync sync every write; false for experiments only
 * @param tickIntervalMs real time per Raft tick
 * @param electionTicks ticks a follower waits for its leader before it campaigns (randomized up
 *     to twice that); heartbeats every fifth of it
 * @param requestTimeoutMs how long a proposal or a read barrier may take before PD answers
 *     UNAVAILABLE; keep it below the clients' per-attempt timeout (3 s by default) so they hear the
 *     answer and retry rather than time out
 * @param idBatchSize ids the leader reserves through Raft at a time
 * @param maxStoreDownTimeMs silence after which a store is reported down
 * @param compactLogAfterEntries applied entries of PD's Raft log kept before it is compacted (a
 *     member further behind catches up from a snapshot of the whole state)
 * @param scheduleIntervalMs how often the leader runs its checkers and schedulers
 */
public record PdConfig(
    long memberId,
    String listenAddress,
    Map<Long, String> members,
    Path dataDir,
    boolean fsync,
    long tickIntervalMs,
    int electionTicks,
    long requestTimeoutMs,
    int idBatchSize,
    long maxStoreDownTimeMs,
    long compactLogAfterEntries,
    long scheduleIntervalMs) {

  /** Allowed numbers of members. */
  public static final Set<Integer> MEMBER_COUNTS = Set.of(1, 3, 5);
  public static final long DEFAULT_MAX_STORE_DOWN_TIME_MS = 30 * 60 * 1000L;
  public static final long DEFAULT_SCHEDULE_INTERVAL_MS = 1_000L;

  public PdConfig {
    members = members == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(members));
  }

  /** The playground's PD: member 1 alone on 127.0.0.1, a free port, data in {@code dataDir}. */
  public static PdConfig singleMember(Path dataDir) {
    return new PdConfig(1, "127.0.0.1:0", Map.of(), dataDir, true, 50, 10, 2_000, 1_000,
        DEFAULT_MAX_STORE_DOWN_TIME_MS, 10_000, DEFAULT_SCHEDULE_INTERVAL_MS);
  }

  /**
   * Checks every setting.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException naming the first bad setting and what is allowed
   */
  public PdConfig validate() {
    check(memberId >= 1, "memberId", ">= 1", memberId);
    try {
      HostPort.parse(listenAddress, true);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("listenAddress: must be host:port with port in [0, 65535], got '"
          + listenAddress + "'", e);
    }
    if (!members.isEmpty()) {
      check(MEMBER_COUNTS.contains(members.size()), "members", "1, 3 or 5 members (or none for a single member)",
          members.size() + " members " + members);
      check(members.containsKey(memberId), "members", "a list that holds this member (memberId " + memberId + ")",
          members.keySet());
      for (Map.Entry<Long, String> m : members.entrySet()) {
        check(m.getKey() != null && m.getKey() >= 1, "members", "ids >= 1", m.getKey());
        try {
          HostPort.parse(m.getValue(), false);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("members: member " + m.getKey()
              + " must have a host:port address with port in [1, 65535], got '" + m.getValue() + "'", e);
        }
      }
      check(members.size() == 1 || HostPort.parse(listenAddress, true).getPort() != 0, "listenAddress",
          "a fixed port when there are several members (port 0 only for a single member)", listenAddress);
    }
    if (dataDir == null) {
      throw new IllegalArgumentException("dataDir: required");
    }
    check(tickIntervalMs >= 1 && tickIntervalMs <= 10_000, "tickIntervalMs", "in [1, 10000]", tickIntervalMs);
    check(electionTicks >= 5 && electionTicks <= 1_000, "electionTicks", "in [5, 1000]", electionTicks);
    check(requestTimeoutMs >= 10 && requestTimeoutMs <= 600_000, "requestTimeoutMs", "in [10, 600000]",
        requestTimeoutMs);
    check(idBatchSize >= 1 && idBatchSize <= 1_000_000, "idBatchSize", "in [1, 1000000]", idBatchSize);
    check(maxStoreDownTimeMs >= 1 && maxStoreDownTimeMs <= 7 * 86_400_000L, "maxStoreDownTimeMs",
        "in [1, 604800000] (7 days)", maxStoreDownTimeMs);
    check(compactLogAfterEntries >= 1 && compactLogAfterEntries <= 1_000_000_000, "compactLogAfterEntries",
        "in [1, 1000000000]", compactLogAfterEntries);
    check(scheduleIntervalMs >= 10 && scheduleIntervalMs <= 600_000, "scheduleIntervalMs", "in [10, 600000]",
        scheduleIntervalMs);
    return this;
  }

  private static void check(boolean ok, String name, String allowed, Object value) {
    if (!ok) {
      throw new IllegalArgumentException(name + ": must be " + allowed + ", got " + value);
    }
  }

  /** The Raft driver settings of PD's node: one poller, no hibernation (one group, always ticking). */
  DriverConfig driverConfig() {
    int heartbeatTick = Math.max(1, electionTicks / 5);
    return new DriverConfig(1, tickIntervalMs, electionTicks, heartbeatTick, 16, 1 << 20, 64, 64L << 20, false,
        heartbeatTick + 1, Math.max(tickIntervalMs, 2_000), requestTimeoutMs, compactLogAfterEntries,
        ReadOnlyOption.SAFE);
  }

  /** The storage settings of PD's node: small caches, PD's state is small. */
  StorageConfig storageConfig() {
    return StorageConfig.defaults(dataDir)
        .withFsync(fsync)
        .withEntryCache(4L << 20, 16L << 20)
        .withBlockCacheBytes(16L << 20)
        .withWriteBuffers(8L << 20, 2);
  }

  public PdConfig withMemberId(long v) {
    return new PdConfig(v, listenAddress, members, dataDir, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withListenAddress(String v) {
    return new PdConfig(memberId, v, members, dataDir, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withMembers(Map<Long, String> v) {
    return new PdConfig(memberId, listenAddress, v, dataDir, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withDataDir(Path v) {
    return new PdConfig(memberId, listenAddress, members, v, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withFsync(boolean v) {
    return new PdConfig(memberId, listenAddress, members, dataDir, v, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withTicks(long tickMs, int election) {
    return new PdConfig(memberId, listenAddress, members, dataDir, fsync, tickMs, election,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withRequestTimeoutMs(long v) {
    return new PdConfig(memberId, listenAddress, members, dataDir, fsync, tickIntervalMs, electionTicks,
        v, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withIdBatchSize(int v) {
    return new PdConfig(memberId, listenAddress, members, dataDir, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, v, maxStoreDownTimeMs, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withMaxStoreDownTimeMs(long v) {
    return new PdConfig(memberId, listenAddress, members, dataDir, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, v, compactLogAfterEntries, scheduleIntervalMs);
  }

  public PdConfig withCompactLogAfterEntries(long v) {
    return new PdConfig(memberId, listenAddress, members, dataDir, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, v, scheduleIntervalMs);
  }

  public PdConfig withScheduleIntervalMs(long v) {
    return new PdConfig(memberId, listenAddress, members, dataDir, fsync, tickIntervalMs, electionTicks,
        requestTimeoutMs, idBatchSize, maxStoreDownTimeMs, compactLogAfterEntries, v);
  }
}
