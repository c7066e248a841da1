package io.flotilla.pd.server;

import static io.flotilla.pd.server.PdFixtures.client;
import static io.flotilla.pd.server.PdFixtures.fastSingle;
import static io.flotilla.pd.server.PdFixtures.get;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.Timestamps;
import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.client.PdMethods;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.TsoRequest;
import io.flotilla.engine.proto.TsoResponse;
import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.TransportConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PD's timestamp oracle on one member over real Netty and RocksDB. */
class PdTsoTest {
  @TempDir Path dir;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T track(T c) {
    closeables.add(c);
    return c;
  }

  @Test
  void timestampsFromManyConcurrentClientsAreUniqueAndLinearizable() throws Exception {
    PdServer pd = track(PdServer.start(fastSingle(dir.resolve("pd"))));
    List<RemotePdClient> clients = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      clients.add(track(client(List.of(pd.address()))));
    }
    TsoLoad load = new TsoLoad(clients, 4, 300);
    load.join();

    assertThat(load.answered()).isEqualTo(4 * 4 * 300);
    assertThat(load.failures()).isZero();
    load.check();
    long after = get(clients.get(0).getTimestamp());
    assertThat(Timestamps.physicalMs(after)).as("the physical part stays below the saved bound")
        .isLessThan(pd.meta().tsoSavedUntilMs());
  }

  @Test
  void aRestartOnTheSameDataDirStartsAfterTheSavedWindow() throws Exception {
    Path data = dir.resolve("pd");
    long before;
    long saved;
    try (PdServer pd = PdServer.start(fastSingle(data)); RemotePdClient c = client(List.of(pd.address()))) {
      before = get(c.getTimestamp());
      saved = pd.meta().tsoSavedUntilMs();
      assertThat(Timestamps.physicalMs(before)).isLessThan(saved);
    }

    PdServer again = track(PdServer.start(fastSingle(data)));
    RemotePdClient c = track(client(List.of(again.address())));
    long after = get(c.getTimestamp());

    assertThat(after).isGreaterThan(before);
    assertThat(Timestamps.physicalMs(after)).as("%s after a window saved up to %d", Timestamps.toString(after), saved)
        .isGreaterThanOrEqualTo(saved);
  }

  @Test
  void concurrentCallersOfOneClientShareCalls() throws Exception {
    PdServer pd = track(PdServer.start(fastSingle(dir.resolve("pd"))));
    RemotePdClient c = track(client(List.of(pd.address())));
    get(c.getTimestamp()); // the leader is known, the first window saved
    long callsBefore = c.timestampCalls();

    int threads = 8;
    int perThread = 50;
    CountDownLatch go = new CountDownLatch(1);
    Queue<CompletableFuture<Long>> asked = new ConcurrentLinkedQueue<>();
    List<Thread> callers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        for (int i = 0; i < perThread; i++) {
          asked.add(c.getTimestamp());
        }
      });
      callers.add(th);
      th.start();
    }
    go.countDown();
    for (Thread th : callers) {
      th.join(TimeUnit.SECONDS.toMillis(30));
    }
    List<Long> got = new ArrayList<>();
    for (CompletableFuture<Long> f : asked) {
      got.add(get(f));
    }

    long calls = c.timestampCalls() - callsBefore;
    assertThat(got).hasSize(threads * perThread).doesNotHaveDuplicates();
    assertThat(calls).as("pd.tso calls for %d callers", got.size()).isLessThan(got.size());
    System.out.printf("TSO batching: %d concurrent callers served by %d pd.tso calls%n", got.size(), calls);

    // The figure: one client, 32 callers each asking again as soon as answered.
    long start = System.nanoTime();
    long callsBeforeLoad = c.timestampCalls();
    TsoLoad load = new TsoLoad(List.of(c), 32, 1_000);
    load.join();
    double seconds = (System.nanoTime() - start) / 1e9;
    load.check();
    System.out.printf("TSO throughput: one client, 32 callers: %d timestamps in %.2f s = %.0f/s over %d calls%n",
        load.answered(), seconds, load.answered() / seconds, c.timestampCalls() - callsBeforeLoad);
  }

  @Test
  void aBadCountIsRefusedAndOneTimestampNeedsNoBootstrap() throws Exception {
    PdServer pd = track(PdServer.start(fastSingle(dir.resolve("pd"))));
    RemotePdClient c = track(client(List.of(pd.address())));
    long ts = get(c.getTimestamp());
    assertThat(get(c.isBootstrapped())).isFalse();
    assertThat(Timestamps.physicalMs(ts)).isCloseTo(System.currentTimeMillis(), Offset.offset(60_000L));

    RpcClient rpc = track(new RpcClient(TransportConfig.defaults().withIoThreads(1)));
    for (int count : new int[] {0, (int) Timestamps.LOGICAL_LIMIT + 1}) {
      byte[] bytes = get(rpc.call(HostPort.parse(pd.address(), false), PdMethods.TSO,
          TsoRequest.newBuilder().setCount(count).build().toByteArray(), Duration.ofSeconds(5)));
      assertThat(TsoResponse.parseFrom(bytes).getError().getType()).as("count " + count)
          .isEqualTo(PdErrorType.PD_ERROR_INVALID_ARGUMENT);
    }
    TsoResponse many = TsoResponse.parseFrom(get(rpc.call(HostPort.parse(pd.address(), false), PdMethods.TSO,
        TsoRequest.newBuilder().setCount(1_000).build().toByteArray(), Duration.ofSeconds(5))));
    assertThat(many.getCount()).isEqualTo(1_000);
    assertThat(many.getFirst()).isGreaterThan(ts);
    assertThat(Timestamps.logical(many.getFirst()) + 999).as("all in one ms").isLessThan(Timestamps.LOGICAL_LIMIT);
  }
}
