package io.flotilla.engine.transport;

/**
 * Settings of a {@link RaftTransport} or {@link RpcClient}. Immutable; start from {@link #defaults()}
 * and change a setting with its {@code with...} method. {@link #validate()} names the first bad
 * setting and its allowed range.
 *
 * @param maxFrameBytes largest frame body accepted or sent; a bigger incoming frame closes the
 *     connection. Raft batches are split to stay under it.
 * @param sendQueueCapacity Raft messages queued per destination node between two flushes; a
 *     message sent to a full queue is dropped and counted ({@link TransportMetrics#droppedQueueFull})
 * @param heartbeatIntervalMs interval of the node liveness heartbeat on each outbound connection
 * @param connectTimeoutMs TCP connect timeout
 * @param handshakeTimeoutMs time a new connection may take to exchange handshakes
 * @param reconnectMinBackoffMs first delay before re-dialing a peer that is down
 * @param reconnectMaxBackoffMs cap of the exponentially growing, jittered re-dial delay
 * @param snapshotChunkBytes payload bytes per snapshot chunk
 * @param snapshotAckTimeoutMs how long a snapshot sender waits for the receiver's verdict, and for
 *     the snapshot lane to become writable, before failing the transfer
 * @param snapshotSendThreads threads that read snapshot streams and write chunks; also the number of
 *     snapshots a node sends at once
 * @param ioThreads Netty event loop threads ({@code flotilla-transport-*})
 * @param preferNativeTransport use epoll when the platform has it (NIO otherwise)
 */
public record TransportConfig(
    int maxFrameBytes,
    int sendQueueCapacity,
    long heartbeatIntervalMs,
    long connectTimeoutMs,
    long handshakeTimeoutMs,
    long reconnectMinBackoffMs,
    long reconnectMaxBackoffMs,
    int snapshotChunkBytes,
    long snapshotAckTimeoutMs,
    int snapshotSendThreads,
    int ioThreads,
    boolean preferNativeTransport) {

  public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

  /** The settings a node runs with unless told otherwise. */
  public static TransportConfig defaults() {
    return new TransportConfig(
        DEFAULT_MAX_FRAME_BYTES,
        8192,
        500,
        3_000,
        10_000,
        100,
        5_000,
        1024 * 1024,
        60_000,
        2,
        Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())),
        true);
  }

  /**
   * Checks every setting.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException naming the first setting out of range
   */
  public TransportConfig validate() {
    check("maxFrameBytes", maxFrameBytes, 1024, Integer.MAX_VALUE - 8);
    check("sendQueueCapacity", sendQueueCapacity, 1, 1 << 24);
    check("heartbeatIntervalMs", heartbeatIntervalMs, 1, 3_600_000);
    check("connectTimeoutMs", connectTimeoutMs, 1, 600_000);
    check("handshakeTimeoutMs", handshakeTimeoutMs, 1, 600_000);
    check("reconnectMinBackoffMs", reconnectMinBackoffMs, 1, 600_000);
    check("reconnectMaxBackoffMs", reconnectMaxBackoffMs, reconnectMinBackoffMs, 3_600_000);
    // A chunk plus its envelope must fit in one frame.
    check("snapshotChunkBytes", snapshotChunkBytes, 1, maxFrameBytes - 512L);
    check("snapshotAckTimeoutMs", snapshotAckTimeoutMs, 1, 86_400_000);
    check("snapshotSendThreads", snapshotSendThreads, 1, 64);
    check("ioThreads", ioThreads, 1, 256);
    return this;
  }

  private static void check(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " = " + value + " is out of range [" + min + ", " + max + "]");
    }
  }

  public TransportConfig withMaxFrameBytes(int v) {
    return new TransportConfig(v, sendQueueCapacity, heartbeatIntervalMs, connectTimeoutMs,
        handshakeTimeoutMs, reconnectMinBackoffMs, reconnectMaxBackoffMs, snapshotChunkBytes,
        snapshotAckTimeoutMs, snapshotSendThreads, ioThreads, preferNativeTransport);
  }

  public TransportConfig withSendQueueCapacity(int v) {
    return new TransportConfig(maxFrameBytes, v, heartbeatIntervalMs, connectTimeoutMs,
        handshakeTimeoutMs, reconnectMinBackoffMs, reconnectMaxBackoffMs, snapshotChunkBytes,
        snapshotAckTimeoutMs, snapshotSendThreads, ioThreads, preferNativeTransport);
  }

  public TransportConfig withHeartbeatIntervalMs(long v) {
    return new TransportConfig(maxFrameBytes, sendQueueCapacity, v, connectTimeoutMs,
        handshakeTimeoutMs, reconnectMinBackoffMs, reconnectMaxBackoffMs, snapshotChunkBytes,
        snapshotAckTimeoutMs, snapshotSendThreads, ioThreads, preferNativeTransport);
  }

  public TransportConfig withHandshakeTimeoutMs(long v) {
    return new TransportConfig(maxFrameBytes, sendQueueCapacity, heartbeatIntervalMs,
        connectTimeoutMs, v, reconnectMinBackoffMs, reconnectMaxBackoffMs, snapshotChunkBytes,
        snapshotAckTimeoutMs, snapshotSendThreads, ioThreads, preferNativeTransport);
  }

  public TransportConfig withReconnectBackoffMs(long min, long max) {
    return new TransportConfig(maxFrameBytes, sendQueueCapacity, heartbeatIntervalMs,
        connectTimeoutMs, handshakeTimeoutMs, min, max, snapshotChunkBytes,
        snapshotAckTimeoutMs, snapshotSendThreads, ioThreads, preferNativeTransport);
  }

  public TransportConfig withSnapshotChunkBytes(int v) {
    return new TransportConfig(maxFrameBytes, sendQueueCapacity, heartbeatIntervalMs,
        connectTimeoutMs, handshakeTimeoutMs, reconnectMinBackoffMs, reconnectMaxBackoffMs, v,
        snapshotAckTimeoutMs, snapshotSendThreads, ioThreads, preferNativeTransport);
  }

  public TransportConfig withIoThreads(int v) {
    return new TransportConfig(maxFrameBytes, sendQueueCapacity, heartbeatIntervalMs,
        connectTimeoutMs, handshakeTimeoutMs, reconnectMinBackoffMs, reconnectMaxBackoffMs,
        snapshotChunkBytes, snapshotAckTimeoutMs, snapshotSendThreads, v, preferNativeTransport);
  }

  public TransportConfig withPreferNativeTransport(boolean v) {
    return new TransportConfig(maxFrameBytes, sendQueueCapacity, heartbeatIntervalMs,
        connectTimeoutMs, handshakeTimeoutMs, reconnectMinBackoffMs, reconnectMaxBackoffMs,
        snapshotChunkBytes, snapshotAckTimeoutMs, snapshotSendThreads, ioThreads, v);
  }
}
