package io.flotilla.engine.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loop threads of one transport and the matching channel classes: native epoll when
 * {@link Epoll#isAvailable()} (Linux; netty-all ships the native library), NIO otherwise. Threads
 * are daemons named {@code flotilla-transport-<label>-<pool>-<n>}.
 *
 * <p>Threads: create and close from any one thread; the fields are immutable.
 */
final class EventLoops implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EventLoops.class);

  final EventLoopGroup group;
  final Class<? extends SocketChannel> channelClass;
  final Class<? extends ServerSocketChannel> serverChannelClass;
  final boolean nativeEpoll;

  private EventLoops(
      EventLoopGroup group,
      Class<? extends SocketChannel> channelClass,
      Class<? extends ServerSocketChannel> serverChannelClass,
      boolean nativeEpoll) {
    this.group = group;
    this.channelClass = channelClass;
    this.serverChannelClass = serverChannelClass;
    this.nativeEpoll = nativeEpoll;
  }

  static EventLoops create(String label, int threads, boolean preferNative) {
    DefaultThreadFactory factory = new DefaultThreadFactory("flotilla-transport-" + label, true);
    if (preferNative && Epoll.isAvailable()) {
      LOG.debug("Transport {} uses native epoll with {} threads", label, threads);
      return new EventLoops(new EpollEventLoopGroup(threads, factory), EpollSocketChannel.class,
          EpollServerSocketChannel.class, true);
    }
    if (preferNative) {
      LOG.info("Native epoll transport unavailable ({}); using NIO", Epoll.unavailabilityCause()
          == null ? "not Linux" : Epoll.unavailabilityCause().toString());
    }
    return new EventLoops(new NioEventLoopGroup(threads, factory), NioSocketChannel.class,
        NioServerSocketChannel.class, false);
  }

  /** Stops the threads, waiting a little for tasks already queued (responses being written). */
  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
