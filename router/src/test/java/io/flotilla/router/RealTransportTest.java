package io.flotilla.router;

import static io.flotilla.router.Harness.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.router.FakeCluster.Action;
import io.flotilla.router.FakeCluster.Received;
import io.flotilla.router.cache.Keys;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The router over the real RPC: the fake stores serve kv.* through engine's RaftTransport on
 * 127.0.0.1, port 0, and the client calls them with an RpcClient.
 */
class RealTransportTest {

  private static final List<String> METHODS =
      List.of("kv.get", "kv.batch_get", "kv.scan", "kv.write");

  private final FakeCluster cluster = new FakeCluster();
  private final Map<Long, RaftTransport> stores = new HashMap<>();
  private RpcClient rpc;
  private KvClient kv;
  /** For the tests that expect a call to run into its deadline. */
  private KvClient impatient;

  @BeforeEach
  void setUp() {
    TransportConfig config = TransportConfig.defaults()
        .withHeartbeatIntervalMs(50)
        .withReconnectBackoffMs(10, 100)
        .withIoThreads(1);
    for (long id = 1; id <= FakeCluster.STORES; id++) {
      RaftTransport t = new RaftTransport(id, config, nodeId -> null);
      InetSocketAddress bound = t.start(new InetSocketAddress("127.0.0.1", 0), (from, m) -> {});
      long storeId = id;
      for (String method : METHODS) {
        t.registerRpc(method, request -> cluster.handle(storeId, method, request, false));
      }
      cluster.setAddress(id, bound);
      stores.put(id, t);
    }
    rpc = new RpcClient(config);
    kv = new KvClient(Harness.fastConfig(), cluster.pd, rpc::call);
    impatient = new KvClient(Harness.fastConfig()
        .withTimeout(Duration.ofMillis(800))
        .withAttemptTimeout(Duration.ofMillis(200)), cluster.pd, rpc::call);
  }

  @AfterEach
  void tearDown() {
    kv.close();
    impatient.close();
    rpc.close();
    stores.values().forEach(RaftTransport::close);
    cluster.close();
  }

  @Test
  void everyOperationWorksOverTheWire() {
    cluster.splitAt(b("g"), b("p"));
    kv.put("a", "1");
    kv.put("h", "2");
    assertThat(kv.get("h")).isEqualTo("2");
    assertThat(kv.get("nope")).isNull();
    assertThat(kv.compareAndSet("lock", null, "me").succeeded()).isTrue();
    kv.batchPutStrings(Map.of("b", "3", "q", "4", "z", "5"));
    assertThat(kv.batchGetStrings(List.of("a", "q", "x"))).containsOnlyKeys("a", "q");

    cluster.setPdFollows(false);
    cluster.splitAt(b("c"), b("s")); // the client learns these from EpochNotMatch
    List<String> forward = new ArrayList<>();
    kv.scan("", "", 0).forEach(e -> forward.add(e.keyUtf8()));
    assertThat(forward).containsExactly("a", "b", "h", "lock", "q", "z");
    List<String> reverse = new ArrayList<>();
    kv.reverseScan("b", "r", 3).forEach(e -> reverse.add(e.keyUtf8()));
    assertThat(reverse).containsExactly("q", "lock", "h");

    kv.deleteRange("b", "r");
    kv.delete("z");
    assertThat(Harness.strings(cluster.data())).containsOnlyKeys("a");
  }

  @Test
  void aStoreThatCannotTellMakesTheOutcomeUnknown() {
    cluster.setInterceptor((store, method, r) -> method.equals("kv.write")
        ? Action.answer(WriteOutcomeTest.outcomeUnknown(
            "leader changed while the proposal was in flight"))
        : Action.SERVE);

    assertThatThrownBy(() -> kv.put("k", "v"))
        .isInstanceOf(OutcomeUnknownException.class)
        .hasMessageContaining("leader changed while the proposal was in flight");
    assertThat(cluster.received("kv.write")).hasSize(1);
  }

  @Test
  void aWriteWhoseAnswerNeverComesIsOutcomeUnknownAndAReadIsPastItsDeadline() {
    cluster.setInterceptor((store, method, r) -> Action.DROP);

    assertThatThrownBy(() -> impatient.put("k", "v"))
        .isInstanceOf(OutcomeUnknownException.class);
    assertThatThrownBy(() -> impatient.get("k"))
        .isInstanceOf(DeadlineExceededException.class)
        .isNotInstanceOf(RegionUnavailableException.class);
  }

  @Test
  void aStoppedStoreIsSkippedForThePeerThatLeadsNow() {
    kv.put("k", "v1");
    cluster.setPdFollows(false);
    cluster.transferLeader(1, 2);
    stores.remove(1L).close();
    cluster.received.clear();

    kv.put("k", "v2");

    assertThat(kv.get("k")).isEqualTo("v2");
    assertThat(cluster.received("kv.write")).extracting(Received::storeId).containsOnly(2L);
    Map<byte[], byte[]> data = new TreeMap<>(Keys.ORDER);
    data.put(b("k"), b("v2"));
    assertThat(Harness.strings(cluster.data())).isEqualTo(Harness.strings(data));
  }
}
