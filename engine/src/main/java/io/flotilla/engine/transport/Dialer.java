package io.flotilla.engine.transport;

import io.flotilla.engine.proto.Lane;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.net.InetSocketAddress;

/**
 * Makes outbound connections: TCP_NODELAY, keep-alive, the connect timeout, and write-buffer
 * watermarks per lane (the snapshot lane's are sized to a few chunks, so {@link SnapshotSender}
 * keeps a few chunks in flight and no more).
 *
 * <p>Threads: immutable; {@link #dial} on the event loop given to it.
 */
final class Dialer {

  final long ownNodeId;
  final TransportConfig config;
  final TransportMetrics metrics;
  final PeerLiveness liveness;
  private final EventLoops loops;

  Dialer(long ownNodeId, TransportConfig config, EventLoops loops, TransportMetrics metrics,
      PeerLiveness liveness) {
    this.ownNodeId = ownNodeId;
    this.config = config;
    this.loops = loops;
    this.metrics = metrics;
    this.liveness = liveness;
  }

  static WriteBufferWaterMark mainWaterMark() {
    return new WriteBufferWaterMark(256 * 1024, 1024 * 1024);
  }

  static WriteBufferWaterMark snapshotWaterMark(TransportConfig config) {
    int chunk = config.snapshotChunkBytes();
    return new WriteBufferWaterMark(chunk, 2 * chunk + 4096);
  }

  /**
   * Starts a connection to {@code address}; the listener hears when it is ready or closed.
   *
   * @param loop the event loop the connection (and the listener's calls) will run on
   * @param expectedNodeId the node that must answer, or 0 to accept whichever node listens there
   * @param target how logs and exceptions name the other side
   */
  ClientConnection dial(EventLoop loop, InetSocketAddress address, Lane lane, long expectedNodeId,
      String target, ClientConnection.Listener listener) {
    ClientConnection connection =
        new ClientConnection(this, lane, expectedNodeId, target, listener);
    Bootstrap bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(loops.channelClass)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeoutMs())
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
                lane == Lane.LANE_SNAPSHOT ? snapshotWaterMark(config) : mainWaterMark())
            .handler(new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline()
                    .addLast(new FlushConsolidationHandler(64, true))
                    .addLast(new FrameDecoder(config.maxFrameBytes(), metrics))
                    .addLast(connection);
              }
            });
    connection.attach(bootstrap.connect(address));
    return connection;
  }
}
