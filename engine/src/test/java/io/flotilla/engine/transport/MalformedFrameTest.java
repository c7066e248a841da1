package io.flotilla.engine.transport;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.proto.Frame;
import io.flotilla.engine.proto.Lane;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Garbage, truncated, oversized and otherwise unreadable input on one connection closes that
 * connection with exactly one WARN line naming the remote address; the node keeps serving its
 * other connections (a node's Raft traffic, a client's RPCs) as if nothing happened.
 */
class MalformedFrameTest {

  private TransportTestSupport nodes;
  private RaftTransport a;
  private RaftTransport b;
  private RpcClient client;
  private TransportTestSupport.LogCapture log;

  @BeforeEach
  void startNodes() throws Exception {
    nodes = new TransportTestSupport();
    a = nodes.start(1, TransportTestSupport.fastConfig().withMaxFrameBytes(64 * 1024)
        .withSnapshotChunkBytes(16 * 1024), 0,
        System::nanoTime);
    b = nodes.start(2);
    a.registerRpc("echo", CompletableFuture::completedFuture);
    client = nodes.client();
    b.connect(1);
    await().atMost(5, TimeUnit.SECONDS).until(() -> b.isConnected(1));
    assertNodeServes(); // the client's connection exists before the bad ones
    log = new TransportTestSupport.LogCapture(ProtocolErrors.class);
  }

  @AfterEach
  void stopNodes() throws Exception {
    if (log != null) {
      log.close();
    }
    nodes.close();
  }

  @Test
  void garbageBytesCloseOnlyThatConnection() throws Exception {
    // An HTTP request reads as a length prefix of 0x47455420 bytes: far above the maximum.
    expectClosedWithOneWarning(
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(UTF_8), false, "exceeds maxFrameBytes");
  }

  @Test
  void aFrameWhoseBodyIsNotAFrameClosesOnlyThatConnection() throws Exception {
    byte[] junk = new byte[32];
    Arrays.fill(junk, (byte) 0xff);
    expectClosedWithOneWarning(framed(junk), false, "malformed frame");
  }

  @Test
  void aTruncatedFrameThenCloseIsReportedOnce() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new DataOutputStream(bytes).writeInt(1000);
    bytes.write(new byte[400]);
    expectClosedWithOneWarning(bytes.toByteArray(), true, "truncated");
  }

  @Test
  void anOversizedFrameIsRefusedBeforeItsBodyArrives() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new DataOutputStream(bytes).writeInt(64 * 1024 + 1);
    bytes.write(new byte[100]);
    expectClosedWithOneWarning(bytes.toByteArray(), false, "65537 bytes exceeds maxFrameBytes");
  }

  @Test
  void anUnknownProtocolVersionClosesOnlyThatConnection() throws Exception {
    byte[] v2 = Frame.newBuilder().setVersion(2)
        .setHandshake(io.flotilla.engine.proto.Handshake.newBuilder().setNodeId(9)
            .setLane(Lane.LANE_MAIN)).build().toByteArray();
    expectClosedWithOneWarning(framed(v2), false, "unsupported protocol version 2");
  }

  @Test
  void raftMessagesBeforeTheHandshakeCloseOnlyThatConnection() throws Exception {
    expectClosedWithOneWarning(encode(Frames.heartbeat(9)), false, "expected a handshake first");
  }

  @Test
  void aClientMayNotSendRaftMessages() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(encode(Frames.handshake(0, Lane.LANE_MAIN)));
    bytes.write(encode(Frames.frame().setRaftBatch(io.flotilla.engine.proto.RaftBatch.newBuilder()
        .addMessages(RaftMessageCodec.toProto(5, TransportTestSupport.heartbeat(1, 2, 3))))
        .build()));
    expectClosedWithOneWarning(bytes.toByteArray(), false, "raft messages from a client");
  }

  private void expectClosedWithOneWarning(byte[] bytes, boolean closeAfterSending, String reason)
      throws Exception {
    long errorsBefore = a.metrics().protocolErrors();
    String remote;
    try (Socket socket = new Socket("127.0.0.1", a.port())) {
      socket.setSoTimeout(5_000);
      remote = "127.0.0.1:" + socket.getLocalPort();
      socket.getOutputStream().write(bytes);
      socket.getOutputStream().flush();
      if (closeAfterSending) {
        socket.shutdownOutput();
      }
      assertClosedByPeer(socket.getInputStream());
    }
    await().atMost(5, TimeUnit.SECONDS).until(() -> !log.warnings().isEmpty());
    assertThat(log.warnings())
        .singleElement()
        .asString()
        .contains(remote)
        .contains(reason);
    assertThat(a.metrics().protocolErrors()).isEqualTo(errorsBefore + 1);
    assertNodeServes();
    assertThat(log.warnings()).hasSize(1);
  }

  /** Reads until end of stream; the node may first have answered a handshake. */
  private static void assertClosedByPeer(InputStream in) throws IOException {
    byte[] buf = new byte[256];
    int total = 0;
    int n;
    try {
      while ((n = in.read(buf)) >= 0) {
        total += n;
        assertThat(total).as("bytes before close").isLessThan(1024);
      }
    } catch (java.net.SocketException reset) {
      // closed with data unread on the node's side: a reset is a close too
    }
  }

  /** The node still carries another node's Raft traffic and a client's RPCs, on old connections. */
  private void assertNodeServes() throws Exception {
    int before = nodes.inbox(1).messageCount();
    b.send(1, 42, TransportTestSupport.heartbeat(2, 1, 7));
    b.flush();
    await().atMost(5, TimeUnit.SECONDS).until(() -> nodes.inbox(1).messageCount() == before + 1);
    byte[] reply = client.call(a.boundAddress(), "echo", "ping".getBytes(UTF_8),
        Duration.ofSeconds(5)).get(5, TimeUnit.SECONDS);
    assertThat(new String(reply, UTF_8)).isEqualTo("ping");
    assertThat(client.metrics().connectionsLost()).isZero();
    assertThat(b.metrics().connectionsLost()).isZero();
    assertThat(b.isConnected(1)).isTrue();
  }

  private static byte[] framed(byte[] body) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(body.length);
    out.write(body);
    return bytes.toByteArray();
  }

  private static byte[] encode(Frame frame) {
    ByteBuf buf = Frames.encode(UnpooledByteBufAllocator.DEFAULT, frame);
    try {
      byte[] out = new byte[buf.readableBytes()];
      buf.readBytes(out);
      return out;
    } finally {
      buf.release();
    }
  }
}
