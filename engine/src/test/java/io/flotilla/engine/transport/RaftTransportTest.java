package io.flotilla.engine.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.netty.channel.epoll.Epoll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Batching, bounded queues, reconnection and node liveness between real nodes on 127.0.0.1. */
class RaftTransportTest {

  private TransportTestSupport nodes;

  @BeforeEach
  void setUp() {
    nodes = new TransportTestSupport();
  }

  @AfterEach
  void tearDown() throws Exception {
    nodes.close();
  }

  @Test
  void messagesOfManyGroupsToOneNodeTravelAsOneFrame() {
    RaftTransport a = nodes.start(1);
    RaftTransport b = nodes.start(2);
    RaftTransport c = nodes.start(3);
    a.connect(2);
    a.connect(3);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.isConnected(2) && a.isConnected(3));

    List<Message> toB = new ArrayList<>();
    for (long group = 1; group <= 500; group++) {
      Message m = Message.builder(MessageType.APP).from(1).to(2).term(3).index(group)
          .entries(List.of(Entry.normal(3, group + 1, ("v" + group).getBytes()))).build();
      toB.add(m);
      a.send(2, group, m);
      a.send(3, group, TransportTestSupport.heartbeat(1, 3, 3));
    }
    a.flush();

    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(2).messageCount() == 500
        && nodes.inbox(3).messageCount() == 500);
    assertThat(nodes.inbox(2).frames()).singleElement()
        .satisfies(f -> assertThat(f.fromNodeId()).isEqualTo(1));
    assertThat(nodes.inbox(3).frames()).hasSize(1);
    assertThat(a.metrics().raftFramesSent()).isEqualTo(2);
    assertThat(a.metrics().raftMessagesSent()).isEqualTo(1000);
    assertThat(b.metrics().raftFramesReceived()).isEqualTo(1);
    assertThat(c.metrics().raftFramesReceived()).isEqualTo(1);
    List<GroupMessage> received = nodes.inbox(2).messages();
    for (int i = 0; i < 500; i++) {
      assertThat(received.get(i).groupId()).isEqualTo(i + 1);
      RaftMessageCodecTest.assertSame(received.get(i).message(), toB.get(i));
    }
  }

  @Test
  void aFlushLargerThanTheMaximumFrameIsSplitAndAnOversizedMessageIsDropped() {
    TransportConfig small = TransportTestSupport.fastConfig().withMaxFrameBytes(64 * 1024)
        .withSnapshotChunkBytes(16 * 1024);
    RaftTransport a = nodes.start(1, small, 0, System::nanoTime);
    RaftTransport b = nodes.start(2, small, 0, System::nanoTime);
    for (int i = 0; i < 100; i++) {
      a.send(2, i, Message.builder(MessageType.APP).from(1).to(2)
          .entries(List.of(Entry.normal(1, i, new byte[2048]))).build());
    }
    a.send(2, 100, Message.builder(MessageType.APP).from(1).to(2)
        .entries(List.of(Entry.normal(1, 100, new byte[64 * 1024]))).build());
    a.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(2).messageCount() == 100);
    assertThat(a.metrics().droppedTooLarge()).isEqualTo(1);
    assertThat(b.metrics().raftFramesReceived()).isBetween(4L, 5L);
    assertThat(b.metrics().protocolErrors()).isZero();
    List<GroupMessage> received = nodes.inbox(2).messages();
    for (int i = 0; i < 100; i++) {
      assertThat(received.get(i).groupId()).isEqualTo(i);
    }
  }

  @Test
  void aFullQueueDropsAndCountsRaftMessagesWhileRpcResponsesStillArrive() throws Exception {
    RaftTransport a = nodes.start(1, TransportTestSupport.fastConfig().withSendQueueCapacity(16), 0,
        System::nanoTime);
    RaftTransport b = nodes.start(2);
    a.registerRpc("echo", CompletableFuture::completedFuture);
    b.registerRpc("echo", CompletableFuture::completedFuture);
    a.connect(2);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.isConnected(2));

    for (int i = 0; i < 100; i++) {
      a.send(2, i, TransportTestSupport.heartbeat(1, 2, 1));
    }
    assertThat(a.metrics().droppedQueueFull()).isEqualTo(84);
    assertThat(a.queuedMessages(2)).isEqualTo(16);

    // RPC traffic both ways is not subject to the raft queue's bound.
    List<CompletableFuture<byte[]>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(b.call(1, "echo", new byte[] {(byte) i}, Duration.ofSeconds(5)));
      calls.add(a.call(2, "echo", new byte[] {(byte) i}, Duration.ofSeconds(5)));
    }
    for (int i = 0; i < calls.size(); i++) {
      assertThat(calls.get(i).get(5, TimeUnit.SECONDS)).containsExactly((byte) (i / 2));
    }

    a.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(2).messageCount() == 16);
    assertThat(a.metrics().droppedQueueFull()).isEqualTo(84);
    assertThat(a.queuedMessages(2)).isZero();
  }

  @Test
  void reconnectsAfterThePeerRestartsOnTheSamePort() {
    RaftTransport a = nodes.start(1);
    RaftTransport b = nodes.start(2);
    int port = b.port();
    a.connect(2);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.isConnected(2));

    b.close();
    await().atMost(5, TimeUnit.SECONDS).until(() -> !a.isConnected(2));
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).unreachable.contains(2L));
    long failedBefore = a.metrics().failedSends();
    a.send(2, 7, TransportTestSupport.heartbeat(1, 2, 1));
    a.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.metrics().failedSends() == failedBefore + 1);

    nodes.start(2, TransportTestSupport.fastConfig(), port, System::nanoTime);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.isConnected(2));
    a.send(2, 7, TransportTestSupport.heartbeat(1, 2, 2));
    a.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(2).messageCount() == 1);
    assertThat(nodes.inbox(2).messages().get(0).message().term()).isEqualTo(2);
    assertThat(a.metrics().connectionsLost()).isEqualTo(1);
  }

  @Test
  void messagesSentBeforeTheConnectionIsUpWaitForIt() {
    RaftTransport a = nodes.start(1);
    nodes.start(2);
    a.send(2, 1, TransportTestSupport.heartbeat(1, 2, 1));
    a.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(2).messageCount() == 1);
    assertThat(a.metrics().failedSends()).isZero();
  }

  @Test
  void anUnknownNodeIsReportedUnreachableAndItsMessagesCountAsFailed() {
    RaftTransport a = nodes.start(1);
    a.send(9, 1, TransportTestSupport.heartbeat(1, 9, 1));
    a.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).unreachable.contains(9L));
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.metrics().failedSends() == 1);
    assertThat(a.isConnected(9)).isFalse();
  }

  @Test
  void aStaleAddressThatAnotherNodeAnswersIsRefused() {
    RaftTransport a = nodes.start(1);
    RaftTransport b = nodes.start(2);
    nodes.addresses.put(3L, b.boundAddress()); // node 3's address now belongs to node 2
    a.send(3, 1, TransportTestSupport.heartbeat(1, 3, 1));
    a.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).unreachable.contains(3L));
    assertThat(a.isConnected(3)).isFalse();
    assertThat(a.metrics().connectFailures()).isPositive();
    assertThat(nodes.inbox(2).messageCount()).isZero();
  }

  @Test
  void startingOnAPortInUseIsATypedError() {
    RaftTransport a = nodes.start(1);
    RaftTransport b = new RaftTransport(2, TransportTestSupport.fastConfig(), id -> null);
    assertThatThrownBy(() -> b.start(a.boundAddress(), (from, messages) -> { }))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining(String.valueOf(a.port()));
    b.close();
  }

  @Test
  void lastHeardFollowsNodeHeartbeatsAndStopsWhenThePeerCloses() {
    AtomicLong clock = new AtomicLong(1_000);
    RaftTransport a = nodes.start(1, TransportTestSupport.fastConfig(), 0, clock::get);
    RaftTransport b = nodes.start(2);
    assertThat(a.lastHeardNanos(2)).isEmpty();
    b.connect(1); // b's heartbeats flow on the connection b dialed

    await().atMost(5, TimeUnit.SECONDS).until(() -> a.lastHeardNanos(2).isPresent());
    clock.set(2_000);
    await().atMost(5, TimeUnit.SECONDS).until(() -> a.lastHeardNanos(2).getAsLong() == 2_000);
    assertThat(a.metrics().heartbeatsReceived()).isPositive();

    b.close();
    clock.set(3_000);
    // Heartbeats come every 50 ms: a few intervals without news means they stopped.
    await().during(300, TimeUnit.MILLISECONDS).atMost(2, TimeUnit.SECONDS)
        .until(() -> a.lastHeardNanos(2).getAsLong() < 3_000);
  }

  @Test
  void usesNativeEpollWhereAvailableAndNamesItsThreads() {
    RaftTransport a = nodes.start(1);
    RaftTransport b = nodes.start(2);
    if (System.getProperty("os.name").startsWith("Linux")
        && System.getProperty("os.arch").equals("amd64")) {
      assertThat(Epoll.isAvailable()).as("netty-all ships epoll for linux-x86_64").isTrue();
    }
    assertThat(a.usesNativeTransport()).isEqualTo(Epoll.isAvailable());
    b.send(1, 1, TransportTestSupport.heartbeat(2, 1, 1));
    b.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).messageCount() == 1);
    assertThat(nodes.inbox(1).frames().get(0).thread()).startsWith("flotilla-transport-");
  }
}
