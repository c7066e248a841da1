package io.flotilla.tools.ctl;

import static io.flotilla.tools.ctl.CtlRun.ctl;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.Timestamps;
import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.pd.LocalCluster;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flotilla ctl} against a real three-store cluster, run in-process. The last test stops a
 * store, so the tests run in order on one cluster.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CtlClusterTest {
  @TempDir
  static Path dir;
  static LocalCluster cluster;
  static String pd;
  static long firstRegion;

  @BeforeAll
  static void startCluster() {
    cluster = LocalCluster.builder(dir).stores(3)
        .pdConfig(c -> c.withMaxStoreDownTimeMs(2_000))
        .storeConfig(c -> c.withHeartbeats(Duration.ofMillis(200), Duration.ofMillis(200)))
        .start();
    pd = cluster.pdAddress();
    try (PdClient client = cluster.newPdClient()) {
      await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
        List<RegionInfo> regions = client.scanRegions(new byte[0], new byte[0], 0).join();
        List<StoreInfo> stores = client.getStores(true).join();
        return regions.size() == 1 && regions.get(0).hasLeader() && stores.size() == 3
            && stores.stream().allMatch(s -> s.getLastHeartbeatMs() > 0 && !s.getDown());
      });
      firstRegion = client.scanRegions(new byte[0], new byte[0], 0).join().get(0).getRegion().getId();
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void storeListShowsThreeUpStores() {
    CtlRun r = ctl(pd, "store", "list");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).startsWith("ID").contains("ADDRESS", "STATE", "HEALTH", "REGIONS", "LEADERS", "HEARTBEAT");
    assertThat(r.rows()).hasSize(3).allSatisfy(row -> {
      assertThat(row[2]).isEqualTo("Up");
      assertThat(row[3]).isEqualTo("up");
    });
    assertThat(r.rows()).extracting(row -> row[1]).containsExactlyInAnyOrderElementsOf(cluster.storeAddresses());
  }

  @Test
  @Order(2)
  void storeShowAndItsJsonDescribeOneStore() {
    long id = cluster.store(1).storeId();
    CtlRun r = ctl(pd, "store", "show", Long.toString(id));
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).containsPattern("store: +" + id + "\\R")
        .containsPattern("address: +" + cluster.store(1).address().replace(".", "\\.")).containsPattern("health: +up");

    Map<String, Object> json = ctl(pd, "--json", "store", "show", Long.toString(id)).json();
    assertThat(json).containsEntry("id", id).containsEntry("state", "Up").containsEntry("down", false)
        .containsKeys("last_heartbeat_ms", "region_count", "leader_count", "used_bytes", "available_bytes");
  }

  @Test
  @Order(3)
  void regionListShowsTheFirstRegionWithItsPeersAndLeader() {
    CtlRun r = ctl(pd, "region", "list");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.rows()).hasSize(1);
    String[] row = r.rows().get(0);
    assertThat(row[0]).isEqualTo(Long.toString(firstRegion));
    assertThat(row[1]).isEqualTo("-inf");
    assertThat(row[2]).isEqualTo("+inf");
    assertThat(row[3]).isEqualTo("1/1");
    assertThat(row[4]).matches("\\d+");
    assertThat(row[5].split(" ")).hasSize(3).allMatch(p -> p.matches("\\d+@\\d+\\(voter\\)"));
    for (int i = 1; i <= 3; i++) {
      assertThat(row[5]).contains("@" + cluster.store(i).storeId() + "(voter)");
    }

    long store = cluster.store(2).storeId();
    assertThat(ctl(pd, "region", "list", "--store", Long.toString(store)).rows()).hasSize(1);
    assertThat(ctl(pd, "region", "list", "--store", "999999").out())
        .contains("(no regions with a peer on store 999999)");
  }

  @Test
  @Order(4)
  void regionShowAndRegionKeyShowTheRegionPeersAndLeader() {
    for (CtlRun r : List.of(ctl(pd, "region", "show", Long.toString(firstRegion)), ctl(pd, "region", "key", "any"),
        ctl(pd, "region", "key", "0x00ff"))) {
      assertThat(r.exit()).as(r.toString()).isZero();
      assertThat(r.out()).containsPattern("region: +" + firstRegion + "\\R").containsPattern("start key: +-inf")
          .containsPattern("end key: +\\+inf").containsPattern("epoch: +version 1, conf_ver 1")
          .containsPattern("leader: +peer \\d+ on store \\d+");
      assertThat(r.out()).contains("PEER", "ROLE", "LEADER").containsPattern("\\* +127\\.0\\.0\\.1:\\d+ +Up");
      for (int i = 1; i <= 3; i++) {
        assertThat(r.out()).contains(cluster.store(i).address());
      }
    }
  }

  @Test
  @Order(5)
  @SuppressWarnings("unchecked")
  void jsonOutputParsesAndHoldsTheFields() {
    Map<String, Object> stores = ctl(pd, "--json", "store", "list").json();
    assertThat((List<Object>) stores.get("stores")).hasSize(3)
        .allSatisfy(s -> assertThat((Map<String, Object>) s).containsEntry("state", "Up").containsEntry("down", false)
            .containsKeys("id", "address", "region_count", "leader_count"));

    Map<String, Object> regions = ctl(pd, "--json", "region", "list").json();
    assertThat(regions).containsEntry("count", 1L).containsEntry("truncated", false);
    Map<String, Object> region = (Map<String, Object>) ((List<Object>) regions.get("regions")).get(0);
    assertThat(region).containsEntry("id", firstRegion).containsEntry("start_key", "").containsEntry("end_key", "")
        .containsKeys("epoch", "leader", "approximate_size", "approximate_keys");
    assertThat((List<Object>) region.get("peers")).hasSize(3)
        .allSatisfy(p -> assertThat((Map<String, Object>) p).containsEntry("role", "voter"));
    assertThat((Map<String, Object>) region.get("leader")).containsKeys("id", "store_id");

    Map<String, Object> shown = ctl(pd, "region", "show", "--json", Long.toString(firstRegion)).json();
    assertThat(shown).containsEntry("id", firstRegion);
  }

  @Test
  @Order(6)
  void clusterHealthOnAHealthyClusterExitsZeroAndSaysHealthy() {
    CtlRun r = ctl(pd, "cluster", "health");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).containsPattern("stores: +3 up, 0 down, 0 offline, 0 tombstone")
        .containsPattern("fewer voters: +none").containsPattern("on down stores: +none")
        .containsPattern("no leader: +none");
    assertThat(r.out().strip().lines().reduce((a, b) -> b).orElseThrow()).startsWith("verdict:").contains("healthy")
        .doesNotContain("unhealthy");

    Map<String, Object> json = ctl(pd, "--json", "cluster", "health").json();
    assertThat(json).containsEntry("healthy", true).containsEntry("region_count", 1L)
        .containsEntry("max_replicas", 3L);
  }

  @Test
  @Order(7)
  void badUsageExitsTwo() {
    for (String[] args : List.of(new String[] {"region", "show", "seven"}, new String[] {"store"},
        new String[] {"store", "show"}, new String[] {"operator", "cancel"},
        new String[] {"operator", "cancel", "--id", "1", "--region", "2"},
        new String[] {"scheduler", "set", "balance-leader", "tolerance"},
        new String[] {"region", "list", "--limit", "-1"},
        new String[] {"region", "move", "1", "--from-store", "2", "--to-store", "2"},
        new String[] {"region", "transfer-leader", "1"}, new String[] {"stores", "list"})) {
      CtlRun r = ctl(pd, args);
      assertThat(r.exit()).as(String.join(" ", args) + "\n" + r).isEqualTo(2);
      assertThat(r.err()).as(String.join(" ", args)).contains("Try 'flotilla ctl");
    }
    assertThat(ctl("nonsense", "store", "list").err())
        .contains("--pd: must be host:port[,host:port...], got 'nonsense'");
  }

  @Test
  @Order(8)
  void unknownStoresAndRegionsSayWhereToLook() {
    CtlRun store = ctl(pd, "store", "show", "999999");
    assertThat(store.exit()).isEqualTo(1);
    assertThat(store.err().strip())
        .isEqualTo("flotilla ctl store show: store 999999 not found: `flotilla ctl store list` shows the stores");

    CtlRun region = ctl(pd, "region", "show", "999999");
    assertThat(region.exit()).isEqualTo(1);
    assertThat(region.err().strip()).isEqualTo(
        "flotilla ctl region show: region 999999 not found: `flotilla ctl region list` shows the regions");
  }

  @Test
  @Order(9)
  void anUnreachablePdGivesTheOneLineHint() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    CtlRun r = ctl("127.0.0.1:" + port, "--timeout", "1s", "store", "list");

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("flotilla ctl store list: PD at 127.0.0.1:" + port
        + " is not reachable: is the playground running? (bin/flotilla playground)");
    assertThat(r.out()).isEmpty();
  }

  @Test
  @Order(10)
  void aStoreAddressGivenAsPdIsCalledOut() {
    CtlRun r = ctl(cluster.store(1).address(), "--timeout", "1s", "store", "list");

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("does not answer pd.get_members: is it a PD's address, not a store's?");
  }

  @Test
  @Order(11)
  void tsoPrintsAFreshTimestampDecodedAndItsJson() {
    CtlRun r = ctl(pd, "tso");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.err()).isEmpty();
    Matcher m = Pattern.compile("timestamp: +(\\d+)\\R+physical: +(\\S+)\\R+logical: +(\\d+)\\R*").matcher(r.out());
    assertThat(m.matches()).as(r.out()).isTrue();
    long ts = Long.parseLong(m.group(1));
    assertThat(m.group(2)).isEqualTo(Timestamps.physicalIso(ts))
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    assertThat(Long.parseLong(m.group(3))).isEqualTo(Timestamps.logical(ts));
    assertThat(Instant.parse(m.group(2))).isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(60));

    Map<String, Object> json = ctl(pd, "--json", "tso").json();
    long later = (Long) json.get("timestamp");
    assertThat(later).as("a later call, a greater timestamp").isGreaterThan(ts);
    assertThat(json).containsEntry("physical", Timestamps.physicalIso(later))
        .containsEntry("physical_ms", Timestamps.physicalMs(later)).containsEntry("logical", Timestamps.logical(later));

    CtlRun bad = ctl(pd, "tso", "now");
    assertThat(bad.exit()).as(bad.toString()).isEqualTo(2);
    assertThat(bad.err().lines().findFirst().orElseThrow()).startsWith("flotilla ctl tso: ").contains("now");
    assertThat(bad.err()).contains("Try 'flotilla ctl tso --help'");
    assertThat(bad.out()).isEmpty();
  }

  @Test
  @Order(20)
  @SuppressWarnings("unchecked")
  void schedulersCanBeListedDisabledAndEnabled() {
    Map<String, Object> list = ctl(pd, "--json", "scheduler", "list").json();
    assertThat((List<Object>) list.get("schedulers")).anySatisfy(s -> assertThat((Map<String, Object>) s)
        .containsEntry("name", "replica-checker").containsKey("settings"));

    CtlRun off = ctl(pd, "scheduler", "disable", "balance-leader");
    assertThat(off.exit()).as(off.toString()).isZero();
    assertThat(off.out()).startsWith("balance-leader: disabled");
    assertThat(ctl(pd, "scheduler", "list").rows())
        .anySatisfy(row -> assertThat(row).startsWith("balance-leader", "no"));

    CtlRun unknown = ctl(pd, "scheduler", "enable", "no-such-scheduler");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err().lines()).hasSize(1);
  }

  @Test
  @Order(21)
  @SuppressWarnings("unchecked")
  void transferLeaderPrintsItsOperatorAndMovesTheLeader() {
    Map<String, Object> region = ctl(pd, "--json", "region", "show", Long.toString(firstRegion)).json();
    long leaderStore = (Long) ((Map<String, Object>) region.get("leader")).get("store_id");
    long target = leaderStore == cluster.store(1).storeId() ? cluster.store(2).storeId() : cluster.store(1).storeId();

    CtlRun r = ctl(pd, "region", "transfer-leader", Long.toString(firstRegion), "--to-store", Long.toString(target));
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).containsPattern("operator: +\\d+").containsPattern("kind: +transfer-leader")
        .containsPattern("region: +" + firstRegion + "\\R");

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(
        (Map<String, Object>) ctl(pd, "--json", "region", "show", Long.toString(firstRegion)).json().get("leader"))
        .containsEntry("store_id", target));
    Map<String, Object> ops = ctl(pd, "--json", "operator", "list", "--all").json();
    assertThat((List<Object>) ops.get("operators")).anySatisfy(o -> assertThat((Map<String, Object>) o)
        .containsEntry("region_id", firstRegion).containsEntry("kind", "transfer-leader"));
    CtlRun cancel = ctl(pd, "operator", "cancel", "--region", Long.toString(firstRegion));
    assertThat(cancel.exit()).isEqualTo(1);
    assertThat(cancel.err().strip()).isEqualTo("flotilla ctl operator cancel: region " + firstRegion
        + " runs no operator: `flotilla ctl operator list` shows the running ones");
    assertThat(ctl(pd, "scheduler", "enable", "balance-leader").exit()).isZero();
  }

  @Test
  @Order(100)
  void aStoppedStoreShowsDownAndMakesTheClusterUnhealthy() {
    long stopped = cluster.store(3).storeId();
    cluster.stopStore(3);

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(ctl(pd, "store", "list").rows())
        .anySatisfy(row -> assertThat(row).startsWith(Long.toString(stopped)).contains("down")));

    CtlRun r = ctl(pd, "cluster", "health");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).contains("2 up, 1 down", "store " + stopped + " at ")
        .containsPattern("verdict: +unhealthy: store " + stopped + " is down")
        .contains("restart store " + stopped);
    Map<String, Object> json = ctl(pd, "--json", "cluster", "health").json();
    assertThat(json).containsEntry("healthy", false).containsEntry("down_store_ids", List.of(stopped))
        .containsEntry("regions_on_down_stores", List.of(firstRegion));
  }
}
