package io.flotilla.engine.transport;

import io.flotilla.engine.raft.Message;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A node's network endpoint: Raft messages of all its groups, batched per destination node; RPC
 * requests and responses; node liveness heartbeats; snapshot streams.
 *
 * <h2>Connections</h2>
 *
 * Each node dials every node it talks to; traffic a node <em>originates</em> goes only on
 * connections it dialed. For a pair A, B:
 *
 * <table>
 *   <caption>Connections between nodes A and B</caption>
 *   <tr><th>connection</th><th>A → B</th><th>B → A</th></tr>
 *   <tr><td>A's main lane (A dialed)</td><td>A's Raft batches, A's heartbeats, A's RPC
 *       requests</td><td>responses to A's RPCs</td></tr>
 *   <tr><td>B's main lane (B dialed)</td><td>responses to B's RPCs</td><td>B's Raft batches,
 *       B's heartbeats, B's RPC requests</td></tr>
 *   <tr><td>A's snapshot lane (on demand)</td><td>A's snapshot chunks</td><td>B's verdicts</td></tr>
 *   <tr><td>B's snapshot lane (on demand)</td><td>B's verdicts</td><td>B's snapshot chunks</td></tr>
 * </table>
 *
 * Why: a connection has one owner, the dialer, who alone reconnects it (with backoff) and whose
 * queue feeds it, so there is no race of simultaneous dials to settle and no shared state between
 * directions; an RPC response goes back on the connection its request came in on, so a client that
 * cannot be dialed (the router) needs nothing more than its own connection; and Raft responses
 * (APP_RESP, ...) are just messages B originates, which flow on B's own connection, whose health B
 * tracks. The price is two TCP connections per pair instead of one, negligible at the tens of
 * nodes a cluster has.
 *
 * <h2>Reconnecting</h2>
 *
 * A link whose peer is down re-dials with jittered exponential backoff ({@link
 * TransportConfig#reconnectMinBackoffMs} up to {@link TransportConfig#reconnectMaxBackoffMs}), so a
 * dead peer costs little. A peer that comes back must not wait that out: a store restarted in
 * place, which the others re-dialed only when their backoff ran out, stalled its regions for
 * seconds. So three hints make the link to a node dial at once:
 *
 * <table>
 *   <caption>Hints that a peer is back</caption>
 *   <tr><th>hint</th><th>from</th></tr>
 *   <tr><td>the node dials in (a handshake on any lane of a connection it opened)</td><td>{@code
 *       ServerConnection}, once per accepted connection</td></tr>
 *   <tr><td>the resolver learns a new address for it</td><td>{@link NodeResolver#subscribe}</td></tr>
 *   <tr><td>another layer learns it is up (a store heartbeat through PD, say)</td><td>{@link
 *       #peerMayBeBack}</td></tr>
 * </table>
 *
 * What a hint does depends on the link's state (table in {@code PeerLink}): a link in backoff dials
 * now, a connected one ignores it. A hint causes at most one dial off the backoff schedule and does
 * not reset the backoff, so a node that is really down is still retried at the backed-off pace,
 * and hints for nodes this node has no link to are ignored (the first send dials anyway). Node
 * heartbeats are not hints: they arrive every {@link TransportConfig#heartbeatIntervalMs} on a
 * connection that is already up and would turn a one-way partition into a dial every interval.
 *
 * <h2>Raft messages</h2>
 *
 * {@link #send} converts the message and puts it in the destination's bounded queue ({@link
 * TransportConfig#sendQueueCapacity}): it never blocks and, when the queue is full, drops the
 * message (Raft resends) and counts it. {@link #flush}, which the driver calls once at the end of a
 * round, writes each destination's queue as one frame (split only above {@link
 * TransportConfig#maxFrameBytes}). The frame is written only while the connection is writable, so
 * a slow peer backs up into its queue and then into drops, not into unbounded memory. While a peer
 * is down, flushes drop its queue ({@link TransportMetrics#failedSends}) and report it through
 * {@link RaftMessageHandler#onPeerUnreachable}. Received frames go to {@link
 * RaftMessageHandler#onRaftMessages}, one call per frame.
 *
 * <h2>Threads</h2>
 *
 * {@link #start} and {@link #close} from one owner thread. Everything else from any thread, after
 * start: {@code send} and {@code flush} are lock-free. Callbacks (handlers, futures) run on event
 * loop threads named {@code flotilla-transport-*}, and must not block.
 */
public final class RaftTransport implements AutoCloseable {

  private enum State { NEW, STARTED, CLOSED }

  private final long nodeId;
  private final TransportConfig config;
  private final NodeResolver resolver;
  private final TransportMetrics metrics = new TransportMetrics();
  private final PeerLiveness liveness;
  private final RpcDispatcher rpc;
  private final ConcurrentHashMap<Long, PeerLink> links = new ConcurrentHashMap<>();
  private final AtomicLong snapshotIds = new AtomicLong();
  private volatile SnapshotReceiver snapshotReceiver;
  private volatile State state = State.NEW;

  // Set by start(), then published by the volatile write of state.
  private EventLoops loops;
  private Dialer dialer;
  private TransportServer server;
  private AddressLinks addressLinks;
  private SnapshotSender snapshotSender;
  private RaftMessageHandler handler;
  private InetSocketAddress boundAddress;

  /** A transport for node {@code nodeId} with the system nanosecond clock. */
  public RaftTransport(long nodeId, TransportConfig config, NodeResolver resolver) {
    this(nodeId, config, resolver, System::nanoTime);
  }

  /**
   * @param nanoClock the clock of {@link #lastHeardNanos}; deadlines, heartbeats and backoff run on
   *     the event loops' real time
   */
  public RaftTransport(long nodeId, TransportConfig config, NodeResolver resolver,
      LongSupplier nanoClock) {
    if (nodeId <= 0) {
      throw new IllegalArgumentException("nodeId must be positive, got " + nodeId);
    }
    this.nodeId = nodeId;
    this.config = config.validate();
    this.resolver = resolver;
    this.liveness = new PeerLiveness(nanoClock);
    this.rpc = new RpcDispatcher(nodeId, config.maxFrameBytes(), metrics);
  }

  /**
   * Binds {@code listen} (port 0 picks a free port) and starts delivering to {@code handler}.
   *
   * @return the bound address
   * @throws TransportException if the address cannot be bound (in use, not local)
   */
  public synchronized InetSocketAddress start(InetSocketAddress listen, RaftMessageHandler handler) {
    if (state != State.NEW) {
      throw new IllegalStateException("node " + nodeId + ": transport is " + state);
    }
    if (handler == null) {
      throw new IllegalArgumentException("node " + nodeId + ": a raft message handler is required");
    }
    this.handler = handler;
    loops = EventLoops.create("n" + nodeId, config.ioThreads(), config.preferNativeTransport());
    try {
      dialer = new Dialer(nodeId, config, loops, metrics, liveness);
      server = new TransportServer(this, nodeId, config, loops, metrics, liveness, rpc, handler);
      boundAddress = server.bind(listen);
    } catch (Throwable e) { // NB: Netty rethrows a BindException unchecked
      loops.close();
      if (e instanceof Error error) {
        throw error;
      }
      throw new TransportException("node " + nodeId + " cannot listen on " + listen + ": " + e, e);
    }
    addressLinks = new AddressLinks(dialer, loops.group);
    snapshotSender = new SnapshotSender("n" + nodeId, config, metrics);
    state = State.STARTED;
    resolver.subscribe(this::peerMayBeBack);
    return boundAddress;
  }

  public long nodeId() {
    return nodeId;
  }

  /** The bound port (the real one when started on port 0). */
  public int port() {
    requireStarted();
    return boundAddress.getPort();
  }

  public InetSocketAddress boundAddress() {
    requireStarted();
    return boundAddress;
  }

  /** Whether the native epoll transport is in use. */
  public boolean usesNativeTransport() {
    requireStarted();
    return loops.nativeEpoll;
  }

  public TransportMetrics metrics() {
    return metrics;
  }

  /** Serves {@code method}; any time, also before start. */
  public void registerRpc(String method, RpcHandler rpcHandler) {
    rpc.register(method, rpcHandler);
  }

  public void unregisterRpc(String method) {
    rpc.unregister(method);
  }

  /** Accepts incoming snapshots with {@code receiver} ({@code null}: reject them). Any time. */
  public void setSnapshotReceiver(SnapshotReceiver receiver) {
    this.snapshotReceiver = receiver;
  }

  SnapshotReceiver snapshotReceiver() {
    return snapshotReceiver;
  }

  /**
   * Queues {@code m} for group {@code groupId} on node {@code toNodeId}, for the next {@link #flush}.
   * Never blocks; drops (and counts) when the destination's queue is full.
   *
   * @throws IllegalArgumentException if {@code m} is a local message type
   */
  public void send(long toNodeId, long groupId, Message m) {
    io.flotilla.engine.proto.Message wire = RaftMessageCodec.toProto(groupId, m);
    PeerLink link = link(toNodeId);
    if (link == null) {
      metrics.failedSends.increment();
      return;
    }
    link.enqueue(wire);
  }

  /** Writes everything queued, one frame per destination node. Never blocks. */
  public void flush() {
    for (PeerLink link : links.values()) {
      link.flush();
    }
  }

  /**
   * Connects to {@code nodeId} now (and keeps reconnecting), so that heartbeats flow both ways and
   * {@link #lastHeardNanos} means something before any Raft message was sent.
   */
  public void connect(long toNodeId) {
    link(toNodeId);
  }

  /** Closes the connections to {@code nodeId} and stops reconnecting, e.g. after it left. */
  public void disconnect(long toNodeId) {
    PeerLink link = links.remove(toNodeId);
    if (link != null) {
      link.close();
    }
  }

  /**
   * A hint that {@code nodeId} is up again: if this node's link to it is waiting out its reconnect
   * backoff, it dials now (see Reconnecting above). For layers that learn of a node's return
   * first, e.g. from a store heartbeat through PD. Each call causes at most one extra dial; no-op
   * if there is no link to {@code nodeId} or the transport is not running. Any thread, never
   * blocks.
   */
  public void peerMayBeBack(long nodeId) {
    PeerLink link = links.get(nodeId);
    if (link != null) {
      link.peerMayBeBack("reported up");
    }
  }

  /** Node {@code nodeId} completed a handshake on a connection it dialed to us; event loop. */
  void peerDialedIn(long nodeId) {
    PeerLink link = links.get(nodeId);
    if (link != null) {
      link.peerMayBeBack("it dialed in");
    }
  }

  /** Whether this node's main lane to {@code nodeId} is up (handshake done). */
  public boolean isConnected(long toNodeId) {
    PeerLink link = links.get(toNodeId);
    return link != null && link.isReady();
  }

  /**
   * When {@code nodeId} was last heard from (any frame, on any connection), on this transport's
   * clock; empty if never. Hibernated groups compare it with the heartbeat interval to notice that
   * their leader's node is gone.
   */
  public OptionalLong lastHeardNanos(long fromNodeId) {
    return liveness.lastHeardNanos(fromNodeId);
  }

  /** Messages queued for {@code nodeId}, waiting for the next flush. */
  public int queuedMessages(long toNodeId) {
    PeerLink link = links.get(toNodeId);
    return link == null ? 0 : link.queued();
  }

  /**
   * Calls {@code method} on node {@code nodeId}. The future fails with {@link RpcTimeoutException}
   * after {@code deadline} (outcome unknown), {@link ConnectionLostException} if the connection is
   * or goes down, {@link RemoteRpcException} if the server answered an error, {@link
   * FrameTooLargeException} if the request does not fit in a frame. It completes on an event loop.
   *
   * @param request ownership passes to the transport: do not modify it afterwards
   */
  public CompletableFuture<byte[]> call(long toNodeId, String method, byte[] request,
      Duration deadline) {
    PendingCall call = newCall("node " + toNodeId, method, request, deadline);
    if (!call.future.isDone()) {
      PeerLink link = link(toNodeId);
      if (link == null) {
        call.fail(new ConnectionLostException(call.target, false, "transport closed"));
      } else {
        link.call(call);
      }
    }
    return call.future;
  }

  /** Like {@link #call(long, String, byte[], Duration)}, to whatever node listens at an address. */
  public CompletableFuture<byte[]> call(InetSocketAddress address, String method, byte[] request,
      Duration deadline) {
    PendingCall call = newCall(address.toString(), method, request, deadline);
    if (!call.future.isDone()) {
      requireStarted();
      addressLinks.call(address, call);
    }
    return call.future;
  }

  private PendingCall newCall(String target, String method, byte[] request, Duration deadline) {
    PendingCall call = RpcClient.newCall(target, method, request, deadline, config);
    metrics.rpcCalls.increment();
    return call;
  }

  /**
   * Streams a snapshot of group {@code groupId} to node {@code toNodeId} on the snapshot lane, in
   * CRC32C-checked chunks. {@code message} (e.g. the MSG_SNAPSHOT, may be {@code null}) travels with
   * the first chunk and reaches the receiver's {@link SnapshotReceiver#begin}. {@code data} is read
   * on a snapshot sender thread and closed at the end.
   *
   * @return completes when the receiver stored the snapshot; fails with {@link
   *     SnapshotTransferException} or {@link ConnectionLostException}
   */
  public CompletableFuture<Void> sendSnapshot(long toNodeId, long groupId, Message message,
      InputStream data) {
    io.flotilla.engine.proto.Message wire =
        message == null ? null : RaftMessageCodec.toProto(groupId, message);
    PeerLink link = link(toNodeId);
    if (link == null) {
      return CompletableFuture.failedFuture(
          new ConnectionLostException("node " + toNodeId, false, "transport closed"));
    }
    return snapshotSender.send(link, groupId, snapshotIds.incrementAndGet(), wire, data);
  }

  /** Tests only. */
  SnapshotSender snapshotSender() {
    return snapshotSender;
  }

  private PeerLink link(long toNodeId) {
    State s = requireStarted();
    if (s == State.CLOSED) {
      return null;
    }
    PeerLink link = links.get(toNodeId);
    if (link != null) {
      return link;
    }
    if (toNodeId <= 0) {
      throw new IllegalArgumentException("node ids are positive, got " + toNodeId);
    }
    try {
      return links.computeIfAbsent(toNodeId,
          id -> new PeerLink(id, loops.group.next(), dialer, resolver, handler));
    } catch (RejectedExecutionException e) {
      return null; // closed concurrently
    }
  }

  private State requireStarted() {
    State s = state;
    if (s == State.NEW) {
      throw new IllegalStateException("node " + nodeId + ": transport not started");
    }
    return s;
  }

  /** Closes every connection, fails outstanding calls and stops the threads. Idempotent. */
  @Override
  public synchronized void close() {
    if (state != State.STARTED) {
      state = State.CLOSED;
      return;
    }
    state = State.CLOSED;
    for (PeerLink link : links.values()) {
      link.close();
    }
    links.clear();
    addressLinks.close();
    server.close();
    snapshotSender.close();
    loops.close();
  }
}
