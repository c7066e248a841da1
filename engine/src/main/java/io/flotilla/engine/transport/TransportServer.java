package io.flotilla.engine.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The listening socket of a node and the connections it accepted, with what they dispatch to.
 *
 * <p>Threads: {@link #bind} and {@link #close} from the owner's thread; the fields are read by
 * {@link ServerConnection}s on event loops.
 */
final class TransportServer {

  final long ownNodeId;
  final TransportConfig config;
  final TransportMetrics metrics;
  final PeerLiveness liveness;
  final RpcDispatcher rpc;
  final RaftMessageHandler raftHandler;
  private final EventLoops loops;
  private final RaftTransport owner;
  private final Set<Channel> accepted = ConcurrentHashMap.newKeySet();
  private Channel serverChannel;

  TransportServer(RaftTransport owner, long ownNodeId, TransportConfig config, EventLoops loops,
      TransportMetrics metrics, PeerLiveness liveness, RpcDispatcher rpc,
      RaftMessageHandler raftHandler) {
    this.owner = owner;
    this.ownNodeId = ownNodeId;
    this.config = config;
    this.loops = loops;
    this.metrics = metrics;
    this.liveness = liveness;
    this.rpc = rpc;
    this.raftHandler = raftHandler;
  }

  SnapshotReceiver snapshotReceiver() {
    return owner.snapshotReceiver();
  }

  /** Node {@code nodeId} completed a handshake on a connection it dialed to us; event loop. */
  void peerDialedIn(long nodeId) {
    owner.peerDialedIn(nodeId);
  }

  /** Binds and returns the bound address (with the real port when asked for port 0). */
  InetSocketAddress bind(InetSocketAddress address) {
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(loops.group)
            .channel(loops.serverChannelClass)
            .option(ChannelOption.SO_REUSEADDR, true)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, Dialer.mainWaterMark())
            .childHandler(new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                accepted.add(ch);
                ch.closeFuture().addListener(f -> accepted.remove(ch));
                ch.pipeline()
                    .addLast(new FlushConsolidationHandler(64, true))
                    .addLast(new FrameDecoder(config.maxFrameBytes(), metrics))
                    .addLast(new ServerConnection(TransportServer.this));
              }
            });
    serverChannel = bootstrap.bind(address).syncUninterruptibly().channel();
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** Stops accepting and closes every accepted connection. */
  void close() {
    if (serverChannel != null) {
      serverChannel.close().syncUninterruptibly();
    }
    for (Channel ch : accepted) {
      ProtocolErrors.closeLocally(ch);
    }
  }
}
