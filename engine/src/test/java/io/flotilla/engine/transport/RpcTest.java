package io.flotilla.engine.transport;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Request/response on the transport's connections, between nodes and from a client by address. */
class RpcTest {

  private static final Duration FIVE_SECONDS = Duration.ofSeconds(5);

  private TransportTestSupport nodes;
  private RaftTransport a;
  private RaftTransport b;
  private final CompletableFuture<byte[]> never = new CompletableFuture<>();

  @BeforeEach
  void setUp() {
    nodes = new TransportTestSupport();
    a = nodes.start(1);
    b = nodes.start(2);
    b.registerRpc("echo", CompletableFuture::completedFuture);
    b.registerRpc("upper", req -> CompletableFuture.supplyAsync(
        () -> new String(req, UTF_8).toUpperCase().getBytes(UTF_8)));
    b.registerRpc("fail", req -> {
      throw new IllegalStateException("region 7 is splitting");
    });
    b.registerRpc("never", req -> never);
    b.registerRpc("huge", req -> CompletableFuture.completedFuture(
        new byte[TransportConfig.DEFAULT_MAX_FRAME_BYTES]));
  }

  @AfterEach
  void tearDown() throws Exception {
    never.complete(new byte[0]);
    nodes.close();
  }

  @Test
  void aCallReturnsTheHandlersResponse() throws Exception {
    assertThat(a.call(2, "echo", "hi".getBytes(UTF_8), FIVE_SECONDS).get(5, TimeUnit.SECONDS))
        .asString(UTF_8).isEqualTo("hi");
    assertThat(a.call(2, "upper", "hi".getBytes(UTF_8), FIVE_SECONDS).get(5, TimeUnit.SECONDS))
        .asString(UTF_8).isEqualTo("HI");
  }

  @Test
  void manyConcurrentCallsEachGetTheirOwnResponse() throws Exception {
    List<CompletableFuture<byte[]>> calls = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      calls.add(a.call(2, i % 2 == 0 ? "echo" : "upper", ("m" + i).getBytes(UTF_8), FIVE_SECONDS));
    }
    for (int i = 0; i < calls.size(); i++) {
      String expected = i % 2 == 0 ? "m" + i : "M" + i;
      assertThat(calls.get(i).get(5, TimeUnit.SECONDS)).asString(UTF_8).isEqualTo(expected);
    }
  }

  @Test
  void aClientThatIsNotANodeCallsByAddress() throws Exception {
    RpcClient client = nodes.client();
    assertThat(client.call(b.boundAddress(), "upper", "router".getBytes(UTF_8), FIVE_SECONDS)
        .get(5, TimeUnit.SECONDS)).asString(UTF_8).isEqualTo("ROUTER");
    assertThat(a.call(b.boundAddress(), "echo", "x".getBytes(UTF_8), FIVE_SECONDS)
        .get(5, TimeUnit.SECONDS)).asString(UTF_8).isEqualTo("x");
  }

  @Test
  void anUnknownMethodAnswersATypedError() {
    assertThatThrownBy(() -> a.call(2, "nope", new byte[0], FIVE_SECONDS).get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(RemoteRpcException.class,
            e -> assertThat(e.code()).isEqualTo(RpcErrorCode.UNKNOWN_METHOD))
        .hasMessageContaining("nope");
  }

  @Test
  void aFailingHandlerAnswersATypedErrorWithItsReason() {
    assertThatThrownBy(() -> a.call(2, "fail", new byte[0], FIVE_SECONDS).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(RemoteRpcException.class,
            e -> assertThat(e.code()).isEqualTo(RpcErrorCode.HANDLER_FAILED))
        .hasMessageContaining("region 7 is splitting");
  }

  @Test
  void theDeadlineFailsTheCallWithOutcomeUnknown() throws Exception {
    long start = System.nanoTime();
    CompletableFuture<byte[]> call = a.call(2, "never", new byte[0], Duration.ofMillis(200));
    assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(RpcTimeoutException.class, e -> {
          assertThat(e.method()).isEqualTo("never");
          assertThat(e.deadlineMs()).isEqualTo(200);
        })
        .hasMessageContaining("outcome unknown");
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(190));
    assertThat(a.metrics().rpcTimeouts()).isEqualTo(1);
    // A late response is ignored, and the connection carries on.
    never.complete("late".getBytes(UTF_8));
    assertThat(a.call(2, "echo", "after".getBytes(UTF_8), FIVE_SECONDS).get(5, TimeUnit.SECONDS))
        .asString(UTF_8).isEqualTo("after");
  }

  @Test
  void losingTheConnectionFailsOutstandingCallsWithConnectionLost() throws Exception {
    CompletableFuture<byte[]> call = a.call(2, "never", new byte[0], Duration.ofSeconds(30));
    await().atMost(5, TimeUnit.SECONDS).until(() -> b.metrics().rpcRequestsServed() == 0
        && a.isConnected(2));
    b.close();
    assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(ConnectionLostException.class,
            e -> assertThat(e.maybeDelivered()).isTrue());
  }

  @Test
  void callingANodeThatCannotBeReachedFailsFastWithNothingSent() {
    assertThatThrownBy(() -> a.call(9, "echo", new byte[0], FIVE_SECONDS).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(ConnectionLostException.class,
            e -> assertThat(e.maybeDelivered()).isFalse());
  }

  @Test
  void tooLargeRequestsAndResponsesAreTypedErrors() {
    byte[] big = new byte[TransportConfig.DEFAULT_MAX_FRAME_BYTES];
    assertThat(a.call(2, "echo", big, FIVE_SECONDS)).isCompletedExceptionally();
    assertThatThrownBy(() -> a.call(2, "echo", big, FIVE_SECONDS).get())
        .cause().isInstanceOf(FrameTooLargeException.class);
    assertThatThrownBy(() -> a.call(2, "huge", new byte[0], FIVE_SECONDS).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(RemoteRpcException.class,
            e -> assertThat(e.code()).isEqualTo(RpcErrorCode.RESPONSE_TOO_LARGE));
  }
}
