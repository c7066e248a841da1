package io.flotilla.engine.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.engine.proto.Frame;
import io.flotilla.engine.proto.Lane;
import io.flotilla.engine.proto.RpcRequest;
import io.flotilla.engine.proto.RpcResponse;
import io.flotilla.engine.proto.SnapshotAck;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dialing side of one TCP connection, made by {@link Dialer}: it sends the {@code Handshake},
 * checks the {@code HandshakeAck}, then carries this node's frames out and RPC responses or snapshot
 * acks back. Its owner ({@link PeerLink}, {@link AddressLinks}, {@link SnapshotLane}) hears of it
 * through {@link Listener}.
 *
 * <pre>
 *   connecting --connected--> handshaking --ack from the expected node--> ready
 *        \                        \                                        |
 *         +-- refused/timeout ----+-- no ack in time / wrong node ---------+--> closed
 * </pre>
 *
 * <p>{@link Listener#onClosed} is called exactly once, whatever the way to closed; RPCs still
 * outstanding then fail with {@link ConnectionLostException}.
 *
 * <p>Threads: every method runs on the channel's event loop (the owner's loop), unless noted.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);

  /** The owner's view of this connection. Called on the event loop. */
  interface Listener {
    void onReady(ClientConnection connection);

    /** The connection is gone (or never came up); {@code wasReady} tells which. */
    void onClosed(ClientConnection connection, String reason, boolean wasReady);

    /** The channel's outbound buffer dropped below its low watermark. */
    default void onWritable(ClientConnection connection) {}

    default void onSnapshotAck(ClientConnection connection, SnapshotAck ack) {}
  }

  private final Dialer dialer;
  private final Lane lane;
  private final long expectedNodeId;
  private final String target;
  private final Listener listener;
  private final HashMap<Long, PendingCall> calls = new HashMap<>();

  private Channel channel;
  private ScheduledFuture<?> handshakeTimer;
  private long nextCorrelationId = 1;
  private boolean ready;
  private boolean closed;
  private String closeReason = "closed by the peer";

  ClientConnection(
      Dialer dialer, Lane lane, long expectedNodeId, String target, Listener listener) {
    this.dialer = dialer;
    this.lane = lane;
    this.expectedNodeId = expectedNodeId;
    this.target = target;
    this.listener = listener;
  }

  /** Called by {@link Dialer} with the pending connect. */
  void attach(ChannelFuture connect) {
    channel = connect.channel();
    connect.addListener(f -> {
      if (!f.isSuccess()) {
        String cause = f.cause() == null ? "cancelled" : f.cause().getMessage();
        closeReason = "connect failed: " + cause;
        fireClosed();
      }
    });
  }

  String target() {
    return target;
  }

  boolean isReady() {
    return ready && !closed;
  }

  /** Whether the TCP connect is still under way (no handshake sent yet). */
  boolean isConnectPending() {
    return !closed && !channel.isActive();
  }

  /** Any thread. */
  boolean isWritable() {
    return channel.isWritable();
  }

  Channel channel() {
    return channel;
  }

  /** Writes without flushing; the buffer is released by Netty, also on failure. */
  void write(Frame frame) {
    channel.write(Frames.encode(channel.alloc(), frame), channel.voidPromise());
  }

  void flush() {
    channel.flush();
  }

  /** Sends an RPC request; the response (or the loss of this connection) completes it. */
  void send(PendingCall call) {
    long id = nextCorrelationId++;
    call.sentOn(this, id);
    calls.put(id, call);
    RpcRequest.Builder req =
        RpcRequest.newBuilder()
            .setCorrelationId(id)
            .setMethod(call.method)
            .setDeadlineMs((int) Math.min(Integer.MAX_VALUE, call.remainingMs(System.nanoTime())))
            .setPayload(UnsafeByteOperations.unsafeWrap(call.request));
    write(Frames.frame().setRpcRequest(req).build());
    flush();
  }

  /** The call's deadline passed; stop tracking it. */
  void forget(long correlationId) {
    calls.remove(correlationId);
  }

  /** Closes on this node's initiative; {@link Listener#onClosed} follows. */
  void close(String reason) {
    if (!closed) {
      closeReason = reason;
    }
    ProtocolErrors.closeLocally(channel);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    // NB: set here, not in attach(): a loopback connect may complete, and channelActive fire,
    // before Bootstrap.connect returns.
    channel = ctx.channel();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    write(Frames.handshake(dialer.ownNodeId, lane));
    flush();
    handshakeTimer = ctx.executor().schedule(() -> {
      if (!ready) {
        close("no handshake answer within " + dialer.config.handshakeTimeoutMs() + " ms");
      }
    }, dialer.config.handshakeTimeoutMs(), TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf body = (ByteBuf) msg;
    try {
      if (closed || ProtocolErrors.closing(channel)) {
        return;
      }
      Frame frame = Frames.parse(body);
      if (ready) {
        dialer.liveness.heard(expectedNodeId);
      }
      dispatch(frame);
    } catch (InvalidProtocolBufferException e) {
      protocolError("malformed frame: " + e.getMessage());
    } finally {
      body.release();
    }
  }

  private void dispatch(Frame frame) {
    switch (frame.getBodyCase()) {
      case HANDSHAKE_ACK -> onHandshakeAck(frame.getHandshakeAck().getNodeId());
      case RPC_RESPONSE -> {
        if (ready && lane == Lane.LANE_MAIN) {
          onResponse(frame.getRpcResponse());
        } else {
          protocolError("unexpected RPC response on " + lane);
        }
      }
      case SNAPSHOT_ACK -> {
        if (ready && lane == Lane.LANE_SNAPSHOT) {
          listener.onSnapshotAck(this, frame.getSnapshotAck());
        } else {
          protocolError("unexpected snapshot ack on " + lane);
        }
      }
      default -> protocolError("unexpected " + frame.getBodyCase() + " frame from the acceptor");
    }
  }

  private void onHandshakeAck(long nodeId) {
    if (ready) {
      protocolError("second handshake ack");
      return;
    }
    if (expectedNodeId != 0 && nodeId != expectedNodeId) {
      // Not garbage, a stale address: the owner logs it with its retries.
      close("dialed node " + expectedNodeId + " but node " + nodeId
          + " answered; the resolver's address for node " + expectedNodeId + " is stale");
      return;
    }
    ready = true;
    handshakeTimer.cancel(false);
    dialer.liveness.heard(expectedNodeId);
    listener.onReady(this);
  }

  private void onResponse(RpcResponse r) {
    PendingCall call = calls.remove(r.getCorrelationId());
    if (call == null) {
      return; // its deadline passed already
    }
    if (r.getStatus() == io.flotilla.engine.proto.RpcStatus.RPC_STATUS_OK) {
      call.succeed(r.getPayload().toByteArray());
    } else {
      call.fail(new RemoteRpcException(errorCode(r.getErrorCode()), r.getErrorMessage()));
    }
  }

  static RpcErrorCode errorCode(io.flotilla.engine.proto.RpcErrorCode code) {
    return switch (code) {
      case RPC_ERROR_UNKNOWN_METHOD -> RpcErrorCode.UNKNOWN_METHOD;
      case RPC_ERROR_HANDLER_FAILED -> RpcErrorCode.HANDLER_FAILED;
      case RPC_ERROR_RESPONSE_TOO_LARGE -> RpcErrorCode.RESPONSE_TOO_LARGE;
      case RPC_ERROR_SHUTTING_DOWN -> RpcErrorCode.SHUTTING_DOWN;
      default -> RpcErrorCode.UNKNOWN;
    };
  }

  private void protocolError(String reason) {
    closeReason = "protocol error: " + reason;
    ProtocolErrors.closeConnection(channel, dialer.metrics, reason + " [" + target + "]");
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && ready) {
      listener.onWritable(this);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fireClosed();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      LOG.debug("Connection to {} failed: {}", target, cause.toString());
      closeReason = cause.toString();
      ProtocolErrors.closeLocally(ctx.channel());
    } else {
      protocolError(cause.toString());
    }
  }

  private void fireClosed() {
    if (closed) {
      return;
    }
    closed = true;
    boolean wasReady = ready;
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    if (!calls.isEmpty()) {
      ArrayList<PendingCall> lost = new ArrayList<>(calls.values());
      calls.clear();
      for (PendingCall call : lost) {
        call.fail(new ConnectionLostException(target, true, closeReason));
      }
    }
    listener.onClosed(this, closeReason, wasReady);
  }
}
