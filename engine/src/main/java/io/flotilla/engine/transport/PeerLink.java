package io.flotilla.engine.transport;

import io.flotilla.engine.proto.Frame;
import io.flotilla.engine.proto.Lane;
import io.flotilla.engine.proto.RaftBatch;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's outbound side towards one other node: the bounded queue of Raft messages for it, the
 * main-lane connection this node dialed (kept up with jittered exponential backoff), the node
 * heartbeat on it, RPCs to it, and, on demand, the snapshot lane.
 *
 * <pre>
 *   CONNECTING --handshake ok--> READY --connection lost--> DOWN --backoff elapsed--> CONNECTING
 *   CONNECTING --dial failed--> DOWN                        DOWN --peer may be back--> CONNECTING
 *   any --close()--> CLOSED
 * </pre>
 *
 * <p>While CONNECTING, Raft messages wait in the queue and RPCs wait for the connection (until their
 * deadline). While DOWN, each flush drops the queue ({@link TransportMetrics#failedSends}) and
 * reports the peer unreachable, and RPCs fail at once with {@link ConnectionLostException}: Raft
 * retries on its own, and a caller learns fast that the node is gone.
 *
 * <p>{@link #peerMayBeBack} (the peer dialed in, its address changed, another layer saw it up)
 * cuts a wait short:
 *
 * <table>
 *   <caption>What a "peer may be back" hint does, per state</caption>
 *   <tr><th>state</th><th>reaction</th></tr>
 *   <tr><td>DOWN</td><td>cancel the backoff timer, dial now</td></tr>
 *   <tr><td>CONNECTING, TCP connect pending</td><td>abandon that attempt (it may be waiting on
 *       SYN retransmits to a dead host or an old address), dial afresh now</td></tr>
 *   <tr><td>CONNECTING, handshaking</td><td>let it finish; if it fails, re-dial at once instead of
 *       after the backoff</td></tr>
 *   <tr><td>READY, CLOSED</td><td>nothing</td></tr>
 * </table>
 *
 * <p>Each hint causes at most one dial off the backoff schedule ({@link
 * TransportMetrics#immediateRedials}) and leaves the backoff's growth alone (only a successful
 * handshake resets it), so a peer that is really down, or reachable one way only, is still
 * retried at the backed-off pace.
 *
 * <p>Threads: {@link #enqueue}, {@link #flush}, {@link #call}, {@link #snapshotLane}, {@link
 * #peerMayBeBack} and {@link #close} from any thread; everything else runs on this link's event loop, which also owns its
 * connections, so link state needs no locks.
 */
final class PeerLink implements ClientConnection.Listener {

  private static final Logger LOG = LoggerFactory.getLogger(PeerLink.class);

  private enum State { CONNECTING, READY, DOWN, CLOSED }

  private final long nodeId;
  private final String target;
  private final EventLoop loop;
  private final Dialer dialer;
  private final NodeResolver resolver;
  private final RaftMessageHandler handler;
  private final TransportMetrics metrics;
  private final BoundedQueue<io.flotilla.engine.proto.Message> queue;
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  /** Written on the event loop only; volatile for {@link #isReady()}. */
  private volatile State state = State.CONNECTING;
  private final int maxBatchBytes;
  private final Frame heartbeat;

  // Event-loop confined.
  private final Backoff backoff;
  private final ArrayDeque<PendingCall> waitingCalls = new ArrayDeque<>();
  private final ArrayList<io.flotilla.engine.proto.Message> drained = new ArrayList<>();
  private ClientConnection connection;
  private ScheduledFuture<?> heartbeatTimer;
  private boolean everReady;
  private int failedAttempts;
  private ScheduledFuture<?> retryTimer;
  /** A hint came while handshaking: if this attempt fails, re-dial at once. */
  private boolean redialAtOnce;
  private SnapshotLane snapshotLane;

  PeerLink(long nodeId, EventLoop loop, Dialer dialer, NodeResolver resolver,
      RaftMessageHandler handler) {
    this.nodeId = nodeId;
    this.target = "node " + nodeId;
    this.loop = loop;
    this.dialer = dialer;
    this.resolver = resolver;
    this.handler = handler;
    this.metrics = dialer.metrics;
    TransportConfig config = dialer.config;
    this.queue = new BoundedQueue<>(config.sendQueueCapacity());
    this.maxBatchBytes = config.maxFrameBytes() - Frames.BATCH_ENVELOPE_BYTES;
    this.heartbeat = Frames.heartbeat(dialer.ownNodeId);
    this.backoff = new Backoff(config.reconnectMinBackoffMs(), config.reconnectMaxBackoffMs(),
        () -> ThreadLocalRandom.current().nextDouble());
    loop.execute(this::dial);
  }

  long nodeId() {
    return nodeId;
  }

  /** Any thread. */
  boolean isReady() {
    return state == State.READY;
  }

  /** Any thread. Queues a message for the next flush; false (and counted) if the queue is full. */
  boolean enqueue(io.flotilla.engine.proto.Message m) {
    if (queue.offer(m)) {
      return true;
    }
    metrics.droppedQueueFull.increment();
    return false;
  }

  /** Any thread. Writes everything queued so far as one frame, soon, on the event loop. */
  void flush() {
    if (!queue.isEmpty() && drainScheduled.compareAndSet(false, true)) {
      if (!runOnLoop(this::drain)) {
        metrics.failedSends.add(queue.clear());
      }
    }
  }

  /** Any thread. */
  void call(PendingCall call) {
    boolean accepted = runOnLoop(() -> {
      call.startTimer(loop, metrics);
      switch (state) {
        case READY -> connection.send(call);
        case CONNECTING -> waitingCalls.add(call);
        case DOWN, CLOSED -> call.fail(new ConnectionLostException(target, false,
            state == State.DOWN ? "node is unreachable, reconnecting" : "transport closed"));
      }
    });
    if (!accepted) {
      call.fail(new ConnectionLostException(target, false, "transport closed"));
    }
  }

  /** Any thread. The snapshot lane to this node, dialed if there is none. */
  CompletableFuture<SnapshotLane> snapshotLane() {
    CompletableFuture<SnapshotLane> result = new CompletableFuture<>();
    boolean accepted = runOnLoop(() -> {
      if (state == State.CLOSED) {
        result.completeExceptionally(new ConnectionLostException(target, false, "transport closed"));
        return;
      }
      if (snapshotLane == null || snapshotLane.isClosed()) {
        InetSocketAddress address = resolver.resolve(nodeId);
        if (address == null) {
          result.completeExceptionally(new ConnectionLostException(target, false, "no address"));
          return;
        }
        snapshotLane = new SnapshotLane(target);
        snapshotLane.attach(dialer.dial(loop, address, Lane.LANE_SNAPSHOT, nodeId,
            target + " (snapshot lane)", snapshotLane));
      }
      snapshotLane.ready().whenComplete((lane, err) -> {
        if (err != null) {
          result.completeExceptionally(err);
        } else {
          result.complete(lane);
        }
      });
    });
    if (!accepted) {
      result.completeExceptionally(new ConnectionLostException(target, false, "transport closed"));
    }
    return result;
  }

  /**
   * Any thread. A sign that the peer is up ({@code why}: it dialed in, its address changed...):
   * stop waiting out the backoff, as the class javadoc's table says. No-op once closed.
   */
  void peerMayBeBack(String why) {
    runOnLoop(() -> onPeerMayBeBack(why));
  }

  private void onPeerMayBeBack(String why) {
    switch (state) {
      case DOWN -> {
        long leftMs = retryTimer == null ? 0 : retryTimer.getDelay(TimeUnit.MILLISECONDS);
        cancelRetry();
        LOG.debug("{} may be back ({}): re-dialing now, not in {} ms", target, why, leftMs);
        metrics.immediateRedials.increment();
        dial();
      }
      case CONNECTING -> {
        if (connection != null && connection.isConnectPending()) {
          ClientConnection pending = connection;
          connection = null; // NB: before close(), so that its onClosed is ignored as superseded
          pending.close("superseded: " + target + " may be back (" + why + ")");
          LOG.debug("{} may be back ({}): abandoning a pending connect, dialing afresh", target,
              why);
          metrics.immediateRedials.increment();
          dial();
        } else {
          redialAtOnce = true;
        }
      }
      case READY, CLOSED -> { }
    }
  }

  /** Any thread. Closes the connections; queued messages and waiting calls are dropped. */
  void close() {
    runOnLoop(() -> {
      state = State.CLOSED;
      cancelRetry();
      stopHeartbeat();
      queue.clear();
      failWaitingCalls("transport closed");
      if (connection != null) {
        connection.close("transport closed");
      }
      if (snapshotLane != null) {
        snapshotLane.close();
      }
    });
  }

  /** Runs {@code task} on the loop; false if the loop has shut down (the transport closed). */
  private boolean runOnLoop(Runnable task) {
    try {
      loop.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  private void dial() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CONNECTING;
    InetSocketAddress address;
    try {
      address = resolver.resolve(nodeId);
    } catch (RuntimeException e) {
      LOG.warn("Resolving the address of node {} failed; will retry", nodeId, e);
      address = null;
    }
    if (address == null) {
      onDialFailed("no address known for node " + nodeId);
      return;
    }
    connection = dialer.dial(loop, address, Lane.LANE_MAIN, nodeId,
        target + " at " + address, this);
  }

  @Override
  public void onReady(ClientConnection c) {
    if (c != connection || state == State.CLOSED) {
      c.close("superseded");
      return;
    }
    state = State.READY;
    backoff.reset();
    redialAtOnce = false;
    if (everReady) {
      LOG.info("Reconnected to {} ({} failed attempts)", c.target(), failedAttempts);
    } else if (failedAttempts > 0) {
      LOG.info("Connected to {} after {} failed attempts", c.target(), failedAttempts);
    }
    everReady = true;
    failedAttempts = 0;
    long interval = dialer.config.heartbeatIntervalMs();
    sendHeartbeat();
    heartbeatTimer = loop.scheduleAtFixedRate(this::sendHeartbeat, interval, interval,
        TimeUnit.MILLISECONDS);
    PendingCall call;
    while ((call = waitingCalls.poll()) != null) {
      if (!call.future.isDone()) {
        connection.send(call);
      }
    }
    drain();
  }

  @Override
  public void onWritable(ClientConnection c) {
    if (c == connection) {
      drain();
    }
  }

  @Override
  public void onClosed(ClientConnection c, String reason, boolean wasReady) {
    if (c != connection || state == State.CLOSED) {
      return;
    }
    connection = null;
    stopHeartbeat();
    if (wasReady) {
      metrics.connectionsLost.increment();
      LOG.info("Connection to {} lost ({}); reconnecting with backoff", c.target(), reason);
    } else {
      metrics.connectFailures.increment();
    }
    goDown(reason, wasReady);
  }

  private void onDialFailed(String reason) {
    metrics.connectFailures.increment();
    goDown(reason, false);
  }

  private void goDown(String reason, boolean logged) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.DOWN;
    if (!logged) {
      failedAttempts++;
    }
    boolean atOnce = redialAtOnce;
    redialAtOnce = false;
    long delay = atOnce ? 0 : backoff.nextDelayMs();
    if (logged) {
      LOG.debug("Retrying {} in {} ms", target, delay);
    } else if (failedAttempts == 1) {
      LOG.info("Cannot reach {} ({}); retrying with backoff, next in {} ms", target, reason, delay);
    } else {
      LOG.debug("Cannot reach {} ({}); attempt {}, retrying in {} ms", target, reason,
          failedAttempts, delay);
    }
    failWaitingCalls(reason);
    int dropped = queue.clear();
    metrics.failedSends.add(dropped);
    notifyUnreachable();
    if (atOnce) {
      metrics.immediateRedials.increment();
    }
    retryTimer = loop.schedule(this::retry, delay, TimeUnit.MILLISECONDS);
  }

  /** The backoff elapsed. */
  private void retry() {
    if (state == State.DOWN) {
      retryTimer = null;
      dial();
    }
  }

  private void cancelRetry() {
    if (retryTimer != null) {
      retryTimer.cancel(false);
      retryTimer = null;
    }
  }

  private void drain() {
    drainScheduled.set(false);
    switch (state) {
      case READY -> {
        if (connection.isWritable()) {
          writeQueued();
        } // else: onWritable drains; meanwhile the queue fills and drops
      }
      case CONNECTING -> { } // onReady drains
      case DOWN -> {
        int dropped = queue.clear();
        if (dropped > 0) {
          metrics.failedSends.add(dropped);
          notifyUnreachable();
        }
      }
      case CLOSED -> queue.clear();
    }
  }

  /** Writes the queue as one RaftBatch frame, split only where a frame would exceed the maximum. */
  private void writeQueued() {
    drained.clear();
    if (queue.drainTo(drained) == 0) {
      return;
    }
    RaftBatch.Builder batch = RaftBatch.newBuilder();
    int batchBytes = 0;
    for (int i = 0, n = drained.size(); i < n; i++) {
      io.flotilla.engine.proto.Message m = drained.get(i);
      int size = Frames.batchedSize(m);
      if (size > maxBatchBytes) {
        metrics.droppedTooLarge.increment();
        LOG.warn("Dropped a {} message of group {} to {}: {} bytes exceed maxFrameBytes = {};"
            + " lower the Raft max message size or raise maxFrameBytes", m.getType(),
            m.getGroupId(), target, size, dialer.config.maxFrameBytes());
        continue;
      }
      if (batchBytes + size > maxBatchBytes) {
        writeBatch(batch);
        batch = RaftBatch.newBuilder();
        batchBytes = 0;
      }
      batch.addMessages(m);
      batchBytes += size;
    }
    if (batch.getMessagesCount() > 0) {
      writeBatch(batch);
    }
    connection.flush();
    drained.clear();
  }

  private void writeBatch(RaftBatch.Builder batch) {
    connection.write(Frames.frame().setRaftBatch(batch).build());
    metrics.raftFramesSent.increment();
    metrics.raftMessagesSent.add(batch.getMessagesCount());
  }

  private void sendHeartbeat() {
    if (state == State.READY) {
      connection.write(heartbeat);
      connection.flush();
      metrics.heartbeatsSent.increment();
    }
  }

  private void stopHeartbeat() {
    if (heartbeatTimer != null) {
      heartbeatTimer.cancel(false);
      heartbeatTimer = null;
    }
  }

  private void failWaitingCalls(String reason) {
    PendingCall call;
    while ((call = waitingCalls.poll()) != null) {
      call.fail(new ConnectionLostException(target, false, reason));
    }
  }

  private void notifyUnreachable() {
    try {
      handler.onPeerUnreachable(nodeId);
    } catch (RuntimeException e) {
      LOG.error("onPeerUnreachable({}) threw; the transport carries on", nodeId, e);
    }
  }

  /** Any thread: messages waiting for the next flush. */
  int queued() {
    return queue.size();
  }
}
