package io.flotilla.engine.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.Frame;
import io.flotilla.engine.proto.Handshake;
import io.flotilla.engine.proto.Lane;
import io.flotilla.engine.proto.RaftBatch;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The accepting side of one connection. The first frame must be a {@code Handshake}, which names
 * the dialer (node id, 0 for a client) and the lane; after it:
 *
 * <table>
 *   <caption>Frames accepted per lane</caption>
 *   <tr><th>lane</th><th>from a node</th><th>from a client (node id 0)</th></tr>
 *   <tr><td>MAIN</td><td>Raft batch, node heartbeat, RPC request</td><td>RPC request</td></tr>
 *   <tr><td>SNAPSHOT</td><td>snapshot chunk</td><td>none</td></tr>
 * </table>
 *
 * <p>Anything else, a frame that does not parse, or no handshake within the timeout, closes this
 * connection through {@link ProtocolErrors} (one WARN line); the node and its other connections
 * carry on.
 *
 * <p>Backpressure: when the outbound buffer passes its high watermark (a client not reading its
 * responses), the connection stops reading requests until it drains; responses are not dropped.
 *
 * <p>Threads: the channel's event loop only.
 */
final class ServerConnection extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ServerConnection.class);

  private final TransportServer server;
  private Lane lane;
  private long remoteNodeId;
  private ScheduledFuture<?> handshakeTimer;
  private SnapshotInbound snapshots;

  ServerConnection(TransportServer server) {
    this.server = server;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    long timeoutMs = server.config.handshakeTimeoutMs();
    handshakeTimer = ctx.executor().schedule(() -> {
      if (lane == null) {
        protocolError(ctx, "no handshake within " + timeoutMs + " ms");
      }
    }, timeoutMs, TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf body = (ByteBuf) msg;
    try {
      if (ProtocolErrors.closing(ctx.channel())) {
        return;
      }
      Frame frame = Frames.parse(body);
      if (lane == null) {
        onHandshake(ctx, frame);
        return;
      }
      server.liveness.heard(remoteNodeId);
      if (lane == Lane.LANE_MAIN) {
        onMainFrame(ctx, frame);
      } else {
        onSnapshotFrame(ctx, frame);
      }
    } catch (InvalidProtocolBufferException e) {
      protocolError(ctx, "malformed frame: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      protocolError(ctx, "malformed raft message: " + e.getMessage());
    } finally {
      body.release();
    }
  }

  private void onHandshake(ChannelHandlerContext ctx, Frame frame) {
    if (frame.getBodyCase() != Frame.BodyCase.HANDSHAKE) {
      protocolError(ctx, "expected a handshake first, got " + frame.getBodyCase());
      return;
    }
    Handshake hs = frame.getHandshake();
    if (hs.getLane() != Lane.LANE_MAIN && hs.getLane() != Lane.LANE_SNAPSHOT) {
      protocolError(ctx, "handshake names unknown lane " + hs.getLaneValue());
      return;
    }
    if (hs.getLane() == Lane.LANE_SNAPSHOT && hs.getNodeId() == 0) {
      protocolError(ctx, "a client (node id 0) cannot open a snapshot lane");
      return;
    }
    handshakeTimer.cancel(false);
    lane = hs.getLane();
    remoteNodeId = hs.getNodeId();
    if (lane == Lane.LANE_SNAPSHOT) {
      snapshots = new SnapshotInbound(ctx.channel(), remoteNodeId, server::snapshotReceiver,
          server.metrics);
    }
    server.liveness.heard(remoteNodeId);
    ctx.writeAndFlush(Frames.encode(ctx.alloc(), Frames.handshakeAck(server.ownNodeId)),
        ctx.voidPromise());
    LOG.debug("Accepted {} lane from node {} at {}", lane, remoteNodeId,
        ctx.channel().remoteAddress());
    if (remoteNodeId != 0) {
      server.peerDialedIn(remoteNodeId);
    }
  }

  private void onMainFrame(ChannelHandlerContext ctx, Frame frame) {
    switch (frame.getBodyCase()) {
      case RPC_REQUEST -> server.rpc.serve(ctx.channel(), frame.getRpcRequest());
      case RAFT_BATCH -> {
        if (remoteNodeId == 0) {
          protocolError(ctx, "raft messages from a client (node id 0)");
        } else {
          onRaftBatch(frame.getRaftBatch());
        }
      }
      case HEARTBEAT -> server.metrics.heartbeatsReceived.increment();
      default -> protocolError(ctx, "unexpected " + frame.getBodyCase() + " frame on the main lane");
    }
  }

  private void onRaftBatch(RaftBatch batch) {
    int n = batch.getMessagesCount();
    server.metrics.raftFramesReceived.increment();
    server.metrics.raftMessagesReceived.add(n);
    if (n == 0) {
      return;
    }
    List<GroupMessage> messages = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      messages.add(RaftMessageCodec.toGroupMessage(batch.getMessages(i)));
    }
    try {
      server.raftHandler.onRaftMessages(remoteNodeId, messages);
    } catch (RuntimeException e) {
      LOG.error("The raft message handler threw on {} messages from node {}; they are lost, Raft"
          + " will resend", n, remoteNodeId, e);
    }
  }

  private void onSnapshotFrame(ChannelHandlerContext ctx, Frame frame) {
    if (frame.getBodyCase() != Frame.BodyCase.SNAPSHOT_CHUNK) {
      protocolError(ctx, "unexpected " + frame.getBodyCase() + " frame on the snapshot lane");
      return;
    }
    snapshots.onChunk(SnapshotInbound.Chunk.of(frame.getSnapshotChunk()));
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (lane == Lane.LANE_MAIN) {
      ctx.channel().config().setAutoRead(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    if (snapshots != null) {
      snapshots.onClosed();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      LOG.debug("Connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ProtocolErrors.closeLocally(ctx.channel());
    } else {
      protocolError(ctx, cause.toString());
    }
  }

  private void protocolError(ChannelHandlerContext ctx, String reason) {
    String who = lane == null ? "" : " [node " + remoteNodeId + ", " + lane + "]";
    ProtocolErrors.closeConnection(ctx.channel(), server.metrics, reason + who);
  }
}
