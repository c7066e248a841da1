package io.flotilla.engine.transport;

import io.flotilla.engine.proto.Lane;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * RPC connections to addresses rather than node ids: what a client that is not a node (the router)
 * uses, and what a node uses to call an address it has no node id for. One main-lane connection per
 * address, dialed on the first call and re-dialed by the first call after it is lost: no background
 * reconnect and no heartbeats, because the caller's own retry policy decides how hard to try.
 *
 * <p>Threads: {@link #call} and {@link #close} from any thread; each address's state lives on its
 * event loop.
 */
final class AddressLinks {

  private final Dialer dialer;
  private final EventLoopGroup group;
  private final ConcurrentHashMap<InetSocketAddress, Link> links = new ConcurrentHashMap<>();
  private volatile boolean closed;

  AddressLinks(Dialer dialer, EventLoopGroup group) {
    this.dialer = dialer;
    this.group = group;
  }

  void call(InetSocketAddress address, PendingCall call) {
    if (closed) {
      call.fail(new ConnectionLostException(address.toString(), false, "transport closed"));
      return;
    }
    Link link = links.computeIfAbsent(address, a -> new Link(a, group.next()));
    try {
      link.loop.execute(() -> link.call(call));
    } catch (RejectedExecutionException e) {
      call.fail(new ConnectionLostException(address.toString(), false, "transport closed"));
    }
  }

  void close() {
    closed = true;
    for (Link link : links.values()) {
      link.loop.execute(link::close);
    }
  }

  /** One address's connection and the calls waiting for it; confined to {@link #loop}. */
  private final class Link implements ClientConnection.Listener {
    final InetSocketAddress address;
    final EventLoop loop;
    final ArrayDeque<PendingCall> waiting = new ArrayDeque<>();
    ClientConnection connection;

    Link(InetSocketAddress address, EventLoop loop) {
      this.address = address;
      this.loop = loop;
    }

    void call(PendingCall call) {
      if (closed) {
        call.fail(new ConnectionLostException(address.toString(), false, "transport closed"));
        return;
      }
      call.startTimer(loop, dialer.metrics);
      if (connection != null && connection.isReady()) {
        connection.send(call);
        return;
      }
      waiting.add(call);
      if (connection == null) {
        connection = dialer.dial(loop, address, Lane.LANE_MAIN, 0, address.toString(), this);
      }
    }

    void close() {
      if (connection != null) {
        connection.close("transport closed");
      }
      failWaiting("transport closed");
    }

    @Override
    public void onReady(ClientConnection c) {
      PendingCall call;
      while ((call = waiting.poll()) != null) {
        if (!call.future.isDone()) {
          c.send(call);
        }
      }
    }

    @Override
    public void onClosed(ClientConnection c, String reason, boolean wasReady) {
      if (c != connection) {
        return;
      }
      connection = null;
      if (!wasReady) {
        dialer.metrics.connectFailures.increment();
      } else {
        dialer.metrics.connectionsLost.increment();
      }
      failWaiting(reason);
    }

    private void failWaiting(String reason) {
      PendingCall call;
      while ((call = waiting.poll()) != null) {
        call.fail(new ConnectionLostException(address.toString(), false, reason));
      }
    }
  }
}
