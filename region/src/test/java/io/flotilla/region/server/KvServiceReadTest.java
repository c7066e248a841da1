package io.flotilla.region.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.ScanResponse;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.MemoryKv;
import io.flotilla.region.storage.StorageBatch;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** KvService's reads once the barrier passed (get, batch get, scan), on {@link MemoryKv}. */
class KvServiceReadTest {
  private final MemoryKv kv = new MemoryKv();

  @BeforeEach
  void fill() {
    try (StorageBatch b = kv.newBatch()) {
      for (String k : List.of("a", "b", "c", "d", "e")) {
        b.put(Cf.DATA, k.getBytes(UTF_8), ("v" + k).getBytes(UTF_8));
      }
      kv.write(b);
    }
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static List<String> pairs(List<KvPair> pairs) {
    return pairs.stream().map(p -> p.getKey().toStringUtf8() + "=" + p.getValue().toStringUtf8()).toList();
  }

  private ScanResponse scan(String start, String end, int limit, boolean reverse, boolean keysOnly) {
    return KvService.scanRange(kv, start.getBytes(UTF_8), end.getBytes(UTF_8), limit, reverse, keysOnly);
  }

  @Test
  void aGetAnswersFoundWithTheValueOrNotFound() {
    assertThat(KvService.get(kv, bs("b")).getValue().toStringUtf8()).isEqualTo("vb");
    assertThat(KvService.get(kv, bs("zz")).getFound()).isFalse();
  }

  @Test
  void aBatchGetAnswersTheKeysThatExistInRequestOrder() {
    assertThat(pairs(KvService.batchGet(kv, List.of(bs("d"), bs("zz"), bs("a"))).getPairsList()))
        .containsExactly("d=vd", "a=va");
  }

  @Test
  void aScanReturnsAtMostLimitPairsOfItsRangeFromEitherEnd() {
    assertThat(pairs(scan("b", "e", 10, false, false).getPairsList())).containsExactly("b=vb", "c=vc", "d=vd");
    assertThat(pairs(scan("b", "", 2, false, false).getPairsList())).containsExactly("b=vb", "c=vc");
    assertThat(pairs(scan("b", "", 2, true, false).getPairsList())).containsExactly("e=ve", "d=vd");
    assertThat(scan("c", "c", 10, false, false).getPairsList()).isEmpty();
  }

  @Test
  void aKeysOnlyScanCarriesNoValues() {
    assertThat(pairs(scan("", "c", 10, false, true).getPairsList())).containsExactly("a=", "b=");
  }
}
