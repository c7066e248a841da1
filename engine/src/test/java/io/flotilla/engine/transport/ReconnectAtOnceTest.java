package io.flotilla.engine.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A peer that comes back is re-dialed at once, not when the reconnect backoff runs out. Every node
 * here backs off at least 10 s (20 s to 30 s, halved by the jitter), and every test expects the
 * link up within 2 s: without the hints they would all fail.
 */
class ReconnectAtOnceTest {

  private static final TransportConfig LONG_BACKOFF =
      TransportTestSupport.fastConfig().withReconnectBackoffMs(20_000, 30_000);

  private TransportTestSupport nodes;

  @BeforeEach
  void setUp() {
    nodes = new TransportTestSupport();
  }

  @AfterEach
  void tearDown() throws Exception {
    nodes.close();
  }

  /** A resolver over a map that, like the PD cache, reports when an address changes. */
  private static final class ReportingResolver implements NodeResolver {
    final Map<Long, InetSocketAddress> addresses = new ConcurrentHashMap<>();
    final AtomicInteger resolves = new AtomicInteger();
    volatile LongConsumer addressChanged = id -> { };

    @Override
    public InetSocketAddress resolve(long nodeId) {
      resolves.incrementAndGet();
      return addresses.get(nodeId);
    }

    @Override
    public void subscribe(LongConsumer listener) {
      addressChanged = listener;
    }

    void move(long nodeId, InetSocketAddress address) {
      addresses.put(nodeId, address);
      addressChanged.accept(nodeId);
    }
  }

  @Test
  void aPeerThatRestartsAndDialsInIsRedialedAtOnceNotAfterTheBackoff() {
    RaftTransport a = nodes.start(1, LONG_BACKOFF, 0, System::nanoTime);
    RaftTransport b = nodes.start(2, LONG_BACKOFF, 0, System::nanoTime);
    int port = b.port();
    a.connect(2);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.isConnected(2));
    b.connect(1);
    await().atMost(5, TimeUnit.SECONDS).until(() -> b.isConnected(1));
    a.peerMayBeBack(2); // a hint for a connected peer changes nothing
    assertThat(a.metrics().immediateRedials()).isZero();

    b.close();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).unreachable.contains(2L));
    assertThat(a.isConnected(2)).isFalse(); // and the next dial is 10 s to 20 s away

    RaftTransport b2 = nodes.start(2, LONG_BACKOFF, port, System::nanoTime);
    b2.connect(1); // the restarted node dials in: the hint
    await().atMost(2, TimeUnit.SECONDS).until(() -> a.isConnected(2));
    a.send(2, 7, TransportTestSupport.heartbeat(1, 2, 2));
    a.flush();
    await().atMost(1, TimeUnit.SECONDS).until(() -> nodes.inbox(2).messageCount() == 1);
    assertThat(nodes.inbox(2).messages().get(0).message().term()).isEqualTo(2);
    assertThat(a.metrics().immediateRedials()).as("one dial per inbound connection").isEqualTo(1);
    assertThat(a.metrics().connectionsLost()).isEqualTo(1);
  }

  @Test
  void aPeerBackAtANewAddressIsRedialedAtOnceWhenTheResolverReportsIt() {
    ReportingResolver resolver = new ReportingResolver();
    RaftTransport a = nodes.start(1, LONG_BACKOFF, 0, System::nanoTime, resolver);
    RaftTransport b = nodes.start(2, LONG_BACKOFF, 0, System::nanoTime);
    resolver.addresses.put(2L, b.boundAddress());
    a.connect(2);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.isConnected(2));

    b.close();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).unreachable.contains(2L));
    RaftTransport b2 = nodes.start(2, LONG_BACKOFF, 0, System::nanoTime); // another port
    resolver.move(2, b2.boundAddress()); // b2 never dials a: only the resolver can tell

    await().atMost(2, TimeUnit.SECONDS).until(() -> a.isConnected(2));
    a.send(2, 7, TransportTestSupport.heartbeat(1, 2, 3));
    a.flush();
    await().atMost(1, TimeUnit.SECONDS).until(() -> nodes.inbox(2).messageCount() == 1);
    assertThat(a.metrics().immediateRedials()).isEqualTo(1);
  }

  @Test
  void aHintForAPeerThatIsStillDownDialsOnceAndKeepsTheBackoff() {
    RaftTransport a = nodes.start(1, LONG_BACKOFF, 0, System::nanoTime);
    RaftTransport b = nodes.start(2, LONG_BACKOFF, 0, System::nanoTime);
    a.connect(2);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.isConnected(2));
    b.close();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).unreachable.contains(2L));
    long failuresBefore = a.metrics().connectFailures();

    for (int hint = 1; hint <= 2; hint++) {
      long expected = failuresBefore + hint;
      a.peerMayBeBack(2);
      await().atMost(2, TimeUnit.SECONDS).until(() -> a.metrics().connectFailures() == expected);
    }
    // Refused twice: back to waiting out the backoff, no dial in between.
    await().during(500, TimeUnit.MILLISECONDS).atMost(2, TimeUnit.SECONDS)
        .until(() -> a.metrics().connectFailures() == failuresBefore + 2);
    assertThat(a.metrics().immediateRedials()).isEqualTo(2);
    assertThat(a.isConnected(2)).isFalse();
  }

  @Test
  void aHintDuringAHandshakeThatFailsMakesTheRetryImmediate() throws Exception {
    ReportingResolver resolver = new ReportingResolver();
    TransportConfig config = LONG_BACKOFF.withHandshakeTimeoutMs(300);
    RaftTransport a = nodes.start(1, config, 0, System::nanoTime, resolver);
    RaftTransport b = nodes.start(2, config, 0, System::nanoTime);
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      silent.setSoTimeout(5_000);
      resolver.addresses.put(2L, (InetSocketAddress) silent.getLocalSocketAddress());
      a.connect(2);
      try (Socket accepted = silent.accept()) {
        accepted.setSoTimeout(5_000);
        InputStream in = accepted.getInputStream();
        assertThat(in.read()).as("a's handshake arrives; it will get no answer").isNotNegative();
        // a is handshaking with a node that never answers; the real node 2 is elsewhere.
        resolver.move(2, b.boundAddress());

        await().atMost(2, TimeUnit.SECONDS).until(() -> a.isConnected(2));
      }
    }
    assertThat(a.metrics().connectFailures()).isEqualTo(1);
    assertThat(a.metrics().immediateRedials()).isEqualTo(1);
  }

  @Test
  void aHintDuringAPendingConnectAbandonsItAndDialsAfresh() throws Exception {
    ReportingResolver resolver = new ReportingResolver();
    RaftTransport a = nodes.start(1, LONG_BACKOFF, 0, System::nanoTime, resolver);
    RaftTransport b = nodes.start(2, LONG_BACKOFF, 0, System::nanoTime);
    List<Socket> fillers = new ArrayList<>();
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      // A listener whose accept queue is full drops SYNs: a connect to it stays pending, retrying
      // its SYN, for up to the 3 s connect timeout, as a connect to a host that is gone does.
      fillQueue(full, fillers);
      resolver.addresses.put(2L, (InetSocketAddress) full.getLocalSocketAddress());
      a.connect(2);
      // The dial resolves, then starts the connect in the same event loop task; the hint, queued
      // on that loop after it, finds the connect pending.
      await().atMost(5, TimeUnit.SECONDS).until(() -> resolver.resolves.get() == 1);
      resolver.move(2, b.boundAddress());

      await().atMost(2, TimeUnit.SECONDS).until(() -> a.isConnected(2));
    } finally {
      for (Socket s : fillers) {
        s.close();
      }
    }
    assertThat(a.metrics().immediateRedials()).isEqualTo(1);
    assertThat(a.metrics().connectFailures()).as("the abandoned connect is no failure").isZero();
  }

  /** Connects to {@code server} until a connect times out: its accept queue is then full. */
  private static void fillQueue(ServerSocket server, List<Socket> fillers) throws Exception {
    for (int i = 0; i < 16; i++) {
      Socket s = new Socket();
      try {
        s.connect(server.getLocalSocketAddress(), 300);
        fillers.add(s);
      } catch (SocketTimeoutException e) {
        s.close();
        return;
      }
    }
    throw new IllegalStateException("the accept queue of " + server + " never filled");
  }
}
