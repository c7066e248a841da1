package io.flotilla.router;

import static io.flotilla.router.Harness.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.LimitExceeded;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.router.FakeCluster.Action;
import io.flotilla.router.cache.Keys;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Oversized requests are refused before they are sent; every call ends by its deadline. */
class LimitsAndDeadlinesTest {

  private static final Duration DEADLINE = Duration.ofMillis(800);
  /** Slack for a loaded machine: the call ends by its deadline plus this. */
  private static final long SLACK_MS = 2_000;

  private final Harness h = new Harness(Harness.fastConfig()
      .withTimeout(DEADLINE)
      .withAttemptTimeout(Duration.ofMillis(100)));

  @AfterEach
  void tearDown() {
    h.close();
  }

  @Test
  void anOversizedKeyOrValueIsRefusedClientSideNamingTheLimit() {
    byte[] bigKey = new byte[8 * 1024 + 1];
    byte[] bigValue = new byte[8 * 1024 * 1024 + 1];

    assertThatThrownBy(() -> h.kv.put(bigKey, b("v")))
        .isInstanceOf(LimitExceededException.class)
        .hasMessageContaining("max-key-bytes")
        .hasMessageContaining("8192")
        .hasMessageContaining("8193");
    assertThatThrownBy(() -> h.kv.get(bigKey)).isInstanceOf(LimitExceededException.class);
    assertThatThrownBy(() -> h.kv.put(b("k"), bigValue))
        .isInstanceOf(LimitExceededException.class)
        .hasMessageContaining("max-value-bytes")
        .hasMessageContaining(String.valueOf(8 * 1024 * 1024))
        .satisfies(e -> assertThat(((LimitExceededException) e).limit())
            .isEqualTo("max-value-bytes"));
    assertThatThrownBy(() -> h.kv.compareAndSet(b("k"), bigValue, b("v")))
        .isInstanceOf(LimitExceededException.class);

    Map<byte[], byte[]> batch = new TreeMap<>(Keys.ORDER);
    for (int i = 0; i < 3; i++) {
      batch.put(b("k" + i), new byte[6 * 1024 * 1024]);
    }
    assertThatThrownBy(() -> h.kv.batchPut(batch))
        .isInstanceOf(LimitExceededException.class)
        .hasMessageContaining("max-batch-bytes")
        .hasMessageContaining(String.valueOf(16 * 1024 * 1024));

    assertThat(h.cluster.received).isEmpty();
    assertThat(h.cluster.pd.regionCalls.get()).isZero();
  }

  @Test
  void theAsyncClientFailsItsFutureInsteadOfThrowing() {
    CompletableFuture<Void> f = h.async().put(new byte[9000], b("v"));
    assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(LimitExceededException.class);
  }

  @Test
  void aLimitTheStoreEnforcesIsReportedAndNotRetried() {
    // A store with a smaller limit than the client's.
    int[] strictCalls = {0};
    StoreRpc strict = (address, method, request, deadline) ->
        strictCalls[0]++ < 0 ? null : CompletableFuture.completedFuture(WriteResponse.newBuilder()
            .setError(KvError.newBuilder().setMessage("value too large")
                .setLimitExceeded(LimitExceeded.newBuilder().setLimit("max-value-bytes")
                    .setMax(10).setActual(11)))
            .build().toByteArray());
    try (KvClient strictClient = new KvClient(Harness.fastConfig(), h.cluster.pd, strict)) {
      assertThatThrownBy(() -> strictClient.put("k", "01234567890"))
          .isInstanceOf(LimitExceededException.class)
          .hasMessageContaining("max-value-bytes")
          .hasMessageContaining("refused by store 1");
      assertThat(strictCalls[0]).isEqualTo(1);
    }
  }

  @Test
  void aReadWithNoAnswerFailsAtTheDeadline() {
    h.cluster.setInterceptor((store, method, r) -> Action.DROP);

    long start = System.nanoTime();
    assertThatThrownBy(() -> h.kv.get("k"))
        .isInstanceOf(DeadlineExceededException.class)
        .isNotInstanceOf(RegionUnavailableException.class)
        .hasMessageContaining("within 800 ms");
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(elapsedMs).isBetween(DEADLINE.toMillis() - 5, DEADLINE.toMillis() + SLACK_MS);
    // Each attempt had its own shorter deadline, so other peers were tried meanwhile.
    assertThat(h.cluster.received("kv.get")).hasSizeGreaterThan(1);
  }

  @Test
  void withoutPdTheRegionIsUnavailableAtTheDeadline() {
    h.cluster.pd.setUnreachable(true);

    long start = System.nanoTime();
    assertThatThrownBy(() -> h.kv.put("k", "v"))
        .isInstanceOf(RegionUnavailableException.class)
        .hasMessageContaining("no PD member reachable");
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(elapsedMs).isBetween(DEADLINE.toMillis() - 5, DEADLINE.toMillis() + SLACK_MS);
    assertThat(h.cluster.pd.regionCalls.get()).isGreaterThan(3); // retried with backoff
    assertThat(h.cluster.received).isEmpty();

    h.cluster.pd.setUnreachable(false);
    h.kv.put("k", "v");
    assertThat(h.kv.get("k")).isEqualTo("v");
  }

  @Test
  void aBusyStoreIsRetriedUntilItServes() {
    int[] busy = {3};
    StoreRpc busyThenServing = (address, method, request, deadline) -> {
      if (busy[0]-- > 0) {
        return CompletableFuture.completedFuture(WriteResponse.newBuilder()
            .setError(KvError.newBuilder().setMessage("busy")
                .setServerBusy(io.flotilla.engine.proto.ServerBusy.newBuilder()
                    .setReason("too many uncommitted bytes")))
            .build().toByteArray());
      }
      return h.cluster.call(address, method, request, deadline);
    };
    try (KvClient client = new KvClient(Harness.fastConfig(), h.cluster.pd, busyThenServing)) {
      client.put("k", "v");
      assertThat(h.kv.get("k")).isEqualTo("v");
    }
    assertThat(List.of(busy[0])).containsExactly(-1);
  }
}
