package io.flotilla.tools.ctl;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The pieces of ctl that need no cluster: keys, sizes, tables, JSON and the health verdict. */
class CtlFormatTest {

  @Test
  void printableKeysShowAsTextOthersAsHexAndBothReadBack() {
    assertThat(Format.key("user/42".getBytes(StandardCharsets.UTF_8))).isEqualTo("user/42");
    assertThat(Format.key(new byte[] {1, (byte) 0xff})).isEqualTo("0x01ff");
    // Text that would read back as hex or as an end marker is shown as hex.
    assertThat(Format.key("0xab".getBytes(StandardCharsets.UTF_8))).isEqualTo("0x30786162");
    assertThat(Format.startKey(ByteString.EMPTY)).isEqualTo("-inf");
    assertThat(Format.endKey(ByteString.EMPTY)).isEqualTo("+inf");
    for (byte[] key : List.of("a".getBytes(StandardCharsets.UTF_8), new byte[] {0, 1, 2},
        "0xab".getBytes(StandardCharsets.UTF_8), "-inf".getBytes(StandardCharsets.UTF_8))) {
      assertThat(Format.parseKey(Format.key(key))).isEqualTo(key);
    }
    assertThat(Format.parseKey("0xzz")).isEqualTo("0xzz".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void sizesAndAgesReadLikeAPersonWouldSayThem() {
    assertThat(Format.bytes(0)).isEqualTo("0 B");
    assertThat(Format.bytes(1536)).isEqualTo("1.5 KiB");
    assertThat(Format.bytes(96L << 20)).isEqualTo("96.0 MiB");
    assertThat(Format.ago(0, 5_000)).isEqualTo("never");
    assertThat(Format.ago(1_000, 4_500)).isEqualTo("3s ago");
    assertThat(Format.ago(0 + 1, 600_001)).isEqualTo("10m ago");
  }

  @Test
  void tableColumnsAreAsWideAsTheirWidestCellAndNumbersAlignRight() {
    StringWriter out = new StringWriter();
    Table.of(">ID", "ADDRESS").row(1, "127.0.0.1:20160").row(12, "h:1").print(new PrintWriter(out));
    assertThat(out.toString()).isEqualTo(String.join(System.lineSeparator(),
        "ID  ADDRESS", " 1  127.0.0.1:20160", "12  h:1", ""));
  }

  @Test
  void jsonWriterOutputParsesBackToTheSameValues() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("id", 7L);
    doc.put("name", "a \"quoted\"\n\u0001 name");
    doc.put("ok", true);
    doc.put("none", null);
    doc.put("list", List.of(1L, Map.of("k", "v"), List.of()));
    doc.put("empty", Map.of());
    assertThat(CtlJsonReader.parse(JsonWriter.write(doc))).isEqualTo(doc);
  }

  @Test
  void healthIsHealthyWhenEveryRegionHasItsVotersAndALeader() {
    Health h = Health.assess(List.of(store(1, false), store(2, false), store(3, false)),
        List.of(region(10, true, 1, 2, 3)), OptionalInt.empty(), OptionalInt.of(0));
    assertThat(h.healthy()).isTrue();
    assertThat(h.verdict()).isEqualTo("healthy");
  }

  @Test
  void aDownStoreMakesItUnhealthyAndNamesTheStoreAndWhatToDo() {
    Health h = Health.assess(List.of(store(1, false), store(2, false), store(3, true)),
        List.of(region(10, true, 1, 2, 3), region(11, false, 1, 2)), OptionalInt.empty(), OptionalInt.empty());
    assertThat(h.healthy()).isFalse();
    assertThat(h.downStores()).extracting(s -> s.getStore().getId()).containsExactly(3L);
    assertThat(h.onDownStores()).containsExactly(10L);
    assertThat(h.underReplicated()).containsExactly(11L);
    assertThat(h.leaderless()).containsExactly(11L);
    assertThat(h.verdict()).startsWith("unhealthy: store 3 is down").contains("restart store 3");
  }

  @Test
  void maxReplicasFromPdSetsHowManyVotersARegionWants() {
    Health h = Health.assess(List.of(store(1, false)), List.of(region(10, true, 1)), OptionalInt.of(1),
        OptionalInt.of(2));
    assertThat(h.verdict()).isEqualTo("healthy (2 operators running)");
    Health three = Health.assess(List.of(store(1, false)), List.of(region(10, true, 1)), OptionalInt.empty(),
        OptionalInt.of(0));
    assertThat(three.verdict()).contains("fewer than 3 voters").contains("add stores: 1 up");
  }

  @Test
  void noRegionsMeansNotBootstrapped() {
    assertThat(Health.assess(List.of(), List.of(), OptionalInt.empty(), OptionalInt.empty()).verdict())
        .startsWith("unhealthy: the cluster is not bootstrapped");
  }

  private static StoreInfo store(long id, boolean down) {
    return StoreInfo.newBuilder().setStore(Store.newBuilder().setId(id).setAddress("127.0.0.1:" + (20000 + id))
        .setState(StoreState.STORE_STATE_UP)).setDown(down).build();
  }

  private static RegionInfo region(long id, boolean withLeader, long... stores) {
    Region.Builder r = Region.newBuilder().setId(id);
    for (long s : stores) {
      r.addPeers(Peer.newBuilder().setId(id * 100 + s).setStoreId(s).setRole(PeerRole.PEER_ROLE_VOTER));
    }
    RegionInfo.Builder b = RegionInfo.newBuilder().setRegion(r);
    if (withLeader) {
      b.setLeader(r.getPeers(0));
    }
    return b.build();
  }
}
