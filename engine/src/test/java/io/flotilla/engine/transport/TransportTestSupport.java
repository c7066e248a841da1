package io.flotilla.engine.transport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/** Nodes on 127.0.0.1, port 0, that find each other through a shared address map. */
final class TransportTestSupport implements AutoCloseable {

  /** Records every frame's worth of Raft messages a node receives. */
  static final class Inbox implements RaftMessageHandler {
    record Frame(long fromNodeId, List<GroupMessage> messages, String thread) {}

    private final CopyOnWriteArrayList<Frame> frames = new CopyOnWriteArrayList<>();
    final CopyOnWriteArrayList<Long> unreachable = new CopyOnWriteArrayList<>();

    @Override
    public void onRaftMessages(long fromNodeId, List<GroupMessage> messages) {
      frames.add(new Frame(fromNodeId, messages, Thread.currentThread().getName()));
    }

    @Override
    public void onPeerUnreachable(long nodeId) {
      unreachable.add(nodeId);
    }

    List<Frame> frames() {
      return frames;
    }

    int messageCount() {
      return frames.stream().mapToInt(f -> f.messages().size()).sum();
    }

    List<GroupMessage> messages() {
      return frames.stream().flatMap(f -> f.messages().stream()).collect(Collectors.toList());
    }
  }

  final Map<Long, InetSocketAddress> addresses = new ConcurrentHashMap<>();
  final Map<Long, Inbox> inboxes = new ConcurrentHashMap<>();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  static TransportConfig fastConfig() {
    return TransportConfig.defaults()
        .withHeartbeatIntervalMs(50)
        .withReconnectBackoffMs(10, 100)
        .withHandshakeTimeoutMs(2_000)
        .withIoThreads(2);
  }

  RaftTransport start(long nodeId) {
    return start(nodeId, fastConfig(), 0, System::nanoTime);
  }

  RaftTransport start(long nodeId, TransportConfig config, int port, LongSupplier clock) {
    return start(nodeId, config, port, clock, addresses::get);
  }

  RaftTransport start(long nodeId, TransportConfig config, int port, LongSupplier clock,
      NodeResolver resolver) {
    RaftTransport t = new RaftTransport(nodeId, config, resolver, clock);
    Inbox inbox = new Inbox();
    InetSocketAddress bound = t.start(new InetSocketAddress("127.0.0.1", port), inbox);
    addresses.put(nodeId, bound);
    inboxes.put(nodeId, inbox);
    toClose.add(t);
    return t;
  }

  RpcClient client() {
    RpcClient c = new RpcClient(fastConfig());
    toClose.add(c);
    return c;
  }

  Inbox inbox(long nodeId) {
    return inboxes.get(nodeId);
  }

  static Message heartbeat(long from, long to, long term) {
    return Message.builder(MessageType.HEARTBEAT).from(from).to(to).term(term).commit(term).build();
  }

  @Override
  public void close() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** Captures the events of one logger while open. */
  static final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture(Class<?> source) {
      logger = (Logger) LoggerFactory.getLogger(source);
      appender.start();
      logger.addAppender(appender);
    }

    List<String> warnings() {
      List<ILoggingEvent> events;
      synchronized (appender) { // AppenderBase.doAppend holds this lock while appending
        events = new ArrayList<>(appender.list);
      }
      List<String> out = new ArrayList<>();
      for (ILoggingEvent e : events) {
        if (e.getLevel() == Level.WARN) {
          out.add(e.getFormattedMessage());
        }
      }
      return out;
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
    }
  }
}
