package io.flotilla.engine.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.Timestamps;
import io.flotilla.engine.proto.GetMembersResponse;
import io.flotilla.engine.proto.Member;
import io.flotilla.engine.proto.PdError;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.TsoRequest;
import io.flotilla.engine.proto.TsoResponse;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.engine.transport.TransportConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's timestamp batching against a stand-in PD that holds each {@code pd.tso} answer
 * until the test releases it, so what is in flight is the test's choice, not the scheduler's.
 */
class RemotePdClientTimestampTest {
  /** One pd.tso request the stand-in received, answered when the test completes {@code answer}. */
  record Held(int count, CompletableFuture<byte[]> answer) {}

  RaftTransport pd;
  RemotePdClient client;
  final List<Held> held = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    pd = new RaftTransport(1, TransportConfig.defaults().withIoThreads(1), id -> null);
    InetSocketAddress bound = pd.start(new InetSocketAddress("127.0.0.1", 0), (from, messages) -> { });
    String address = HostPort.format(bound);
    Member self = Member.newBuilder().setId(1).setAddress(address).build();
    byte[] members = GetMembersResponse.newBuilder().setClusterId(42).addMembers(self).setLeader(self).build()
        .toByteArray();
    pd.registerRpc(PdMethods.GET_MEMBERS, request -> CompletableFuture.completedFuture(members));
    pd.registerRpc(PdMethods.TSO, request -> {
      CompletableFuture<byte[]> answer = new CompletableFuture<>();
      try {
        held.add(new Held(TsoRequest.parseFrom(request).getCount(), answer));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        answer.completeExceptionally(e);
      }
      return answer;
    });
    client = new RemotePdClient(List.of(address), PdClientConfig.defaults().withCallTimeoutMs(10_000)
        .withAttemptTimeoutMs(10_000).withBackoffMs(10, 100));
  }

  @AfterEach
  void stop() {
    client.close();
    pd.close();
  }

  @Test
  void callersArrivingWhileOneCallIsInFlightShareTheNextCall() throws Exception {
    CompletableFuture<Long> first = client.getTimestamp();
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1);
    List<CompletableFuture<Long>> waiting = new ArrayList<>();
    for (int i = 0; i < 99; i++) {
      waiting.add(client.getTimestamp());
    }
    assertThat(held).as("nothing more is sent while the first call is in flight").hasSize(1);

    long t0 = Timestamps.compose(1_800_000_000_000L, 0);
    held.get(0).answer().complete(answer(t0, 1));
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(t0);
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 2);
    assertThat(held.get(1).count()).as("one call for all 99 waiting callers").isEqualTo(99);
    held.get(1).answer().complete(answer(t0 + 1, 99));

    List<Long> got = new ArrayList<>();
    for (CompletableFuture<Long> f : waiting) {
      got.add(f.get(10, TimeUnit.SECONDS));
    }
    assertThat(got).doesNotHaveDuplicates().allMatch(ts -> ts > t0 && ts <= t0 + 99);
    assertThat(got).as("in the order they asked").isSorted();
    assertThat(client.timestampCalls()).isEqualTo(2);
  }

  @Test
  void aFailedCallFailsTheCallersItServedAndTheNextCallersStillGetTheirs() throws Exception {
    CompletableFuture<Long> first = client.getTimestamp();
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1);
    CompletableFuture<Long> second = client.getTimestamp();
    held.get(0).answer().complete(TsoResponse.newBuilder().setError(PdError.newBuilder()
        .setType(PdErrorType.PD_ERROR_INVALID_ARGUMENT).setMessage("no")).build().toByteArray());

    try {
      first.get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(PdException.class);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 2);
    held.get(1).answer().complete(answer(77, 1));
    assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(77);
  }

  private static byte[] answer(long first, int count) {
    return TsoResponse.newBuilder().setFirst(first).setCount(count).build().toByteArray();
  }
}
