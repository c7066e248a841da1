package io.flotilla.engine.transport;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one transport, since it was created. Cheap to update from many threads.
 *
 * <p>Threads: getters from any thread; the values are monotonic but not a consistent snapshot.
 */
public final class TransportMetrics {

  final LongAdder raftMessagesSent = new LongAdder();
  final LongAdder raftFramesSent = new LongAdder();
  final LongAdder raftMessagesReceived = new LongAdder();
  final LongAdder raftFramesReceived = new LongAdder();
  final LongAdder droppedQueueFull = new LongAdder();
  final LongAdder failedSends = new LongAdder();
  final LongAdder droppedTooLarge = new LongAdder();
  final LongAdder protocolErrors = new LongAdder();
  final LongAdder connectFailures = new LongAdder();
  final LongAdder connectionsLost = new LongAdder();
  final LongAdder immediateRedials = new LongAdder();
  final LongAdder heartbeatsSent = new LongAdder();
  final LongAdder heartbeatsReceived = new LongAdder();
  final LongAdder rpcCalls = new LongAdder();
  final LongAdder rpcTimeouts = new LongAdder();
  final LongAdder rpcRequestsServed = new LongAdder();
  final LongAdder snapshotChunksSent = new LongAdder();
  final LongAdder snapshotBytesSent = new LongAdder();
  final LongAdder snapshotChunksReceived = new LongAdder();
  final LongAdder snapshotChecksumFailures = new LongAdder();

  /** Raft messages written to a connection. */
  public long raftMessagesSent() {
    return raftMessagesSent.sum();
  }

  /** Frames of Raft messages written; {@code raftMessagesSent / raftFramesSent} is the batching. */
  public long raftFramesSent() {
    return raftFramesSent.sum();
  }

  public long raftMessagesReceived() {
    return raftMessagesReceived.sum();
  }

  public long raftFramesReceived() {
    return raftFramesReceived.sum();
  }

  /** Raft messages dropped because the destination's queue was full (a slow or stuck peer). */
  public long droppedQueueFull() {
    return droppedQueueFull.sum();
  }

  /** Raft messages dropped because the destination was down (not connected) at flush. */
  public long failedSends() {
    return failedSends.sum();
  }

  /** Raft messages dropped because one alone exceeds the maximum frame size. */
  public long droppedTooLarge() {
    return droppedTooLarge.sum();
  }

  /** Connections closed because the other side sent something unreadable. */
  public long protocolErrors() {
    return protocolErrors.sum();
  }

  /** Dial attempts that failed (refused, timed out, no address, handshake failed). */
  public long connectFailures() {
    return connectFailures.sum();
  }

  /** Established outbound connections that closed. */
  public long connectionsLost() {
    return connectionsLost.sum();
  }

  /**
   * Dials made off the backoff schedule because a peer seemed to be back (it dialed in, its address
   * changed, {@link RaftTransport#peerMayBeBack}).
   */
  public long immediateRedials() {
    return immediateRedials.sum();
  }

  public long heartbeatsSent() {
    return heartbeatsSent.sum();
  }

  public long heartbeatsReceived() {
    return heartbeatsReceived.sum();
  }

  /** RPC calls started by this node. */
  public long rpcCalls() {
    return rpcCalls.sum();
  }

  public long rpcTimeouts() {
    return rpcTimeouts.sum();
  }

  /** RPC responses (success or error) this node wrote. */
  public long rpcRequestsServed() {
    return rpcRequestsServed.sum();
  }

  public long snapshotChunksSent() {
    return snapshotChunksSent.sum();
  }

  /** Snapshot data bytes this node sent (chunk payloads). */
  public long snapshotBytesSent() {
    return snapshotBytesSent.sum();
  }

  public long snapshotChunksReceived() {
    return snapshotChunksReceived.sum();
  }

  public long snapshotChecksumFailures() {
    return snapshotChecksumFailures.sum();
  }
}
