package io.flotilla.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.OutcomeUnknown;
import io.flotilla.engine.proto.StaleSequence;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.transport.ConnectionLostException;
import io.flotilla.router.FakeCluster.Action;
import io.flotilla.router.FakeCluster.Received;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A write whose outcome the client cannot know is reported as unknown, never as a failure; its
 * retries carry the same (client id, seq), so the store applies it once.
 */
class WriteOutcomeTest {

  /** For the tests that expect a call to run into its deadline. */
  private static final Duration DEADLINE = Duration.ofMillis(400);
  /** Slack for a loaded machine: the call ends by its deadline plus this. */
  private static final long SLACK_MS = 2_000;

  private final Harness h = new Harness(Harness.fastConfig()
      .withTimeout(DEADLINE)
      .withAttemptTimeout(Duration.ofMillis(120)));
  /** For the tests that expect success after retries: a deadline they never reach. */
  private final Harness patient = new Harness(Harness.fastConfig()
      .withAttemptTimeout(Duration.ofMillis(120)));

  @AfterEach
  void tearDown() {
    h.close();
    patient.close();
  }

  @Test
  void aWriteWhoseAnswerNeverComesIsOutcomeUnknown() {
    h.kv.put("k", "v0");
    h.cluster.setInterceptor((store, method, r) -> method.equals("kv.write") ? Action.DROP
        : Action.SERVE);
    h.cluster.received.clear();

    long start = System.nanoTime();
    assertThatThrownBy(() -> h.kv.put("k", "v1"))
        .isInstanceOf(OutcomeUnknownException.class)
        .hasMessageContaining("put 'k'");
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(elapsedMs).isBetween(DEADLINE.toMillis() - 5, DEADLINE.toMillis() + SLACK_MS);
    assertThat(sameWrite(h.cluster.received("kv.write"))).isTrue();
    assertThat(h.cluster.received("kv.write")).hasSizeGreaterThan(1); // retried meanwhile
  }

  @Test
  void itsRetryAfterNotLeaderReusesTheSeq() {
    h.kv.put("k", "v0");
    h.cluster.setPdFollows(false);
    h.cluster.transferLeader(1, 3);
    h.cluster.setInterceptor((store, method, r) ->
        store == 3 && method.equals("kv.write") ? Action.DROP : Action.SERVE);
    h.cluster.received.clear();

    assertThatThrownBy(() -> h.kv.put("k", "v1")).isInstanceOf(OutcomeUnknownException.class);

    List<Received> writes = h.cluster.received("kv.write");
    assertThat(writes).extracting(Received::storeId).startsWith(1L, 3L);
    assertThat(sameWrite(writes)).isTrue();
  }

  @Test
  void aWriteAppliedButUnansweredIsAppliedOnceWhenRetried() {
    AtomicInteger writes = new AtomicInteger();
    patient.cluster.setInterceptor((store, method, r) -> method.equals("kv.write")
        && writes.getAndIncrement() == 0 ? Action.APPLY_THEN_DROP : Action.SERVE);

    // Without de-duplication the retry would find "lock" taken and fail.
    CasResult result = patient.kv.compareAndSet("lock", null, "me");

    assertThat(result.succeeded()).isTrue();
    assertThat(patient.cluster.applies()).isEqualTo(1);
    // After the timeout the next peer is tried: a follower, whose hint leads back.
    assertThat(patient.cluster.received("kv.write")).extracting(Received::storeId)
        .containsExactly(1L, 2L, 1L);
    assertThat(sameWrite(patient.cluster.received("kv.write"))).isTrue();
  }

  @Test
  void aStoreThatCannotTellIsReportedAsOutcomeUnknown() {
    h.cluster.setInterceptor((store, method, r) -> Action.answer(outcomeUnknown(
        "proposal not applied within 5000 ms; it may still be")));

    long start = System.nanoTime();
    assertThatThrownBy(() -> h.kv.put("k", "v"))
        .isInstanceOf(OutcomeUnknownException.class)
        .hasMessageContaining("cannot tell whether the write was applied")
        .hasMessageContaining("it may still be");
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(DEADLINE.toMillis());
    assertThat(h.cluster.received("kv.write")).hasSize(1);
    // A read is not a write: it is retried, and fails at the deadline.
    assertThatThrownBy(() -> h.kv.get("k")).isInstanceOf(RegionUnavailableException.class);
  }

  @Test
  void handlerFailuresAreRetriedWhateverTheirMessage() {
    AtomicInteger calls = new AtomicInteger();
    patient.cluster.setInterceptor((store, method, r) -> switch (calls.getAndIncrement()) {
      case 0 -> Action.handlerFails("region 1 is busy applying a snapshot");
      case 1 -> Action.handlerFails("OutcomeUnknown: a message is not an outcome");
      default -> Action.SERVE;
    });

    patient.kv.put("k", "v");

    assertThat(patient.kv.get("k")).isEqualTo("v");
    assertThat(patient.cluster.applies()).isEqualTo(1);
    assertThat(sameWrite(patient.cluster.received("kv.write"))).isTrue();
  }

  @Test
  void aWriteWhoseHandlerKeepsFailingMayHaveBeenApplied() {
    h.cluster.setInterceptor((store, method, r) -> method.equals("kv.write")
        ? Action.handlerFails("apply failed") : Action.SERVE);

    // The store got it and did not say "not applied" with a KvError: unknown, not failed.
    assertThatThrownBy(() -> h.kv.put("k", "v")).isInstanceOf(OutcomeUnknownException.class);
    assertThat(h.cluster.received("kv.write")).hasSizeGreaterThan(1);
  }

  @Test
  void aConnectionLostAfterSendingIsOutcomeUnknownAndBeforeSendingIsNot() {
    h.cluster.setInterceptor((store, method, r) -> Action.transportFails(
        new ConnectionLostException("store " + store, true, "reset by peer")));
    assertThatThrownBy(() -> h.kv.put("k", "v")).isInstanceOf(OutcomeUnknownException.class);

    h.cluster.setInterceptor((store, method, r) -> Action.transportFails(
        new ConnectionLostException("store " + store, false, "connection refused")));
    assertThatThrownBy(() -> h.kv.put("k", "v"))
        .isInstanceOf(RegionUnavailableException.class)
        .hasMessageContaining("connection refused");
  }

  @Test
  void aStoreThatCannotBeReachedIsSkippedForTheNextPeer() {
    patient.kv.put("k", "v0");
    patient.cluster.setPdFollows(false);
    patient.cluster.transferLeader(1, 2); // the old leader's store is gone; store 2 took over
    patient.cluster.setInterceptor((store, method, r) -> store == 1 ? Action.transportFails(
        new ConnectionLostException("store 1", false, "connection refused")) : Action.SERVE);
    patient.cluster.received.clear();

    patient.kv.put("k", "v1");

    assertThat(patient.cluster.received("kv.write")).extracting(Received::storeId)
        .containsExactly(1L, 2L);
    assertThat(patient.kv.get("k")).isEqualTo("v1");
  }

  @Test
  void writesCarryTheClientIdAndIncreasingSeqs() {
    patient.kv.put("a", "1");
    patient.kv.delete("a");
    patient.kv.compareAndSet("a", null, "2");
    List<WriteRequest> writes = patient.cluster.received("kv.write").stream()
        .map(r -> (WriteRequest) r.request()).toList();
    assertThat(writes).extracting(WriteRequest::getClientId)
        .containsOnly(patient.async().clientId());
    assertThat(writes).extracting(WriteRequest::getSeq).containsExactly(1L, 2L, 3L);
    assertThat(patient.async().clientId()).isNotZero();
  }

  @Test
  void aWriteOvertakenByALaterOneIsSentAgainUnderANewSeq() {
    patient.kv.put("k", "v0");
    AtomicInteger writes = new AtomicInteger();
    patient.cluster.setInterceptor((store, method, r) -> {
      if (method.equals("kv.write") && writes.incrementAndGet() == 1) {
        patient.kv.put("k", "later"); // gets the next seq and is applied first
        return Action.transportFails(new ConnectionLostException("store " + store, false,
            "connection refused"));
      }
      return Action.SERVE;
    });

    patient.kv.put("k", "overtaken");

    List<Long> seqs = patient.cluster.received("kv.write").stream()
        .map(w -> ((WriteRequest) w.request()).getSeq()).toList();
    // v0: 1; "overtaken": 2, refused as stale at 2 after "later" (3) applied, then sent as 4.
    assertThat(seqs).containsSubsequence(2L, 3L, 2L, 4L);
    assertThat(patient.kv.get("k")).isEqualTo("overtaken");
  }

  @Test
  void aStaleSequenceAnswerIsSentAgainUnderANewSeqAndAppliedOnce() {
    patient.kv.put("k", "v0");
    AtomicInteger writes = new AtomicInteger();
    patient.cluster.setInterceptor((store, method, r) -> method.equals("kv.write")
        && writes.incrementAndGet() == 1 ? Action.answer(staleSequence((WriteRequest) r))
        : Action.SERVE);
    patient.cluster.received.clear();

    patient.kv.put("k", "v1");

    assertThat(patient.cluster.received("kv.write"))
        .extracting(w -> ((WriteRequest) w.request()).getSeq()).containsExactly(2L, 3L);
    assertThat(patient.cluster.applies()).isEqualTo(2);
    assertThat(patient.kv.get("k")).isEqualTo("v1");
  }

  @Test
  void aWriteOvertakenAfterItMayHaveBeenAppliedIsOutcomeUnknown() {
    patient.kv.put("k", "v0");
    AtomicInteger writes = new AtomicInteger();
    patient.cluster.setInterceptor((store, method, r) -> {
      if (method.equals("kv.write") && writes.incrementAndGet() == 1) {
        patient.kv.put("k", "later");
        return Action.DROP;
      }
      return Action.SERVE;
    });

    long start = System.nanoTime();
    assertThatThrownBy(() -> patient.kv.put("k", "overtaken"))
        .isInstanceOf(OutcomeUnknownException.class)
        .hasMessageContaining("may have been applied, and store 1 no longer remembers");
    // Decided on the StaleSequence answer, not at the deadline.
    assertThat((System.nanoTime() - start) / 1_000_000)
        .isLessThan(Harness.fastConfig().timeout().toMillis());
  }

  @Test
  void closingTheClientEndsItsCallsInFlight() {
    h.cluster.setInterceptor((store, method, r) -> Action.DROP);
    CompletableFuture<Void> write = h.async().put(Harness.b("k"), Harness.b("v"));
    CompletableFuture<byte[]> read = h.async().get(Harness.b("k"));
    await().atMost(Duration.ofSeconds(5)).until(() -> h.cluster.received.size() >= 2);

    h.kv.close();

    assertThat(write).failsWithin(Duration.ofSeconds(1)).withThrowableOfType(
        ExecutionException.class).withCauseInstanceOf(OutcomeUnknownException.class);
    assertThat(read).failsWithin(Duration.ofSeconds(1)).withThrowableOfType(
        ExecutionException.class).withMessageContaining("the client was closed");
    assertThatThrownBy(() -> h.kv.get("k")).isInstanceOf(KvException.class)
        .hasMessageContaining("closed");
  }

  static KvError outcomeUnknown(String message) {
    return KvError.newBuilder().setMessage(message)
        .setOutcomeUnknown(OutcomeUnknown.newBuilder().setRegionId(1)).build();
  }

  private static KvError staleSequence(WriteRequest w) {
    return KvError.newBuilder().setMessage("forgotten")
        .setStaleSequence(StaleSequence.newBuilder().setClientId(w.getClientId())
            .setSeq(w.getSeq()).setFloor(w.getSeq() + 1)).build();
  }

  /** Whether all the requests are one write: same client id and seq, non-zero. */
  private static boolean sameWrite(List<Received> writes) {
    List<List<Long>> ids = writes.stream()
        .map(r -> (WriteRequest) r.request())
        .map(w -> List.of(w.getClientId(), w.getSeq()))
        .distinct()
        .toList();
    return ids.size() == 1 && ids.get(0).get(1) != 0;
  }
}
