package io.flotilla.region.storage;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The read view's rules, each checked on RocksDB and on its in-memory twin. */
class KvReaderTest {
  private static final byte[] NONE = new byte[0];

  @TempDir Path dir;

  private KvBackend open(String backend) {
    return backend.equals("rocksdb") ? KvBackend.rocks(dir) : KvBackend.memory();
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static String s(byte[] b) {
    return b == null ? null : new String(b, UTF_8);
  }

  private static void putAll(KvBackend kv, String... keys) {
    kv.write(batch -> {
      for (String k : keys) {
        batch.put(Cf.DATA, b(k), b("v" + k));
      }
    });
  }

  private static List<String> scan(KvSnapshot snap, String lower, String upper, boolean reverse, int limit) {
    List<String> out = new ArrayList<>();
    snap.scan(Cf.DATA, b(lower), b(upper), reverse, at -> {
      out.add(s(at.key()) + "=" + s(at.value()));
      return out.size() < limit;
    });
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"rocksdb", "memory"})
  void aGetSeesWrittenBatchesOnly(String backend) {
    try (KvBackend kv = open(backend)) {
      putAll(kv, "a");
      try (StorageBatch pending = kv.newBatch()) {
        pending.put(Cf.DATA, b("b"), b("vb"));
        assertThat(kv.reader().get(Cf.DATA, b("b"))).as("unwritten batch").isNull();
        kv.write(pending);
      }
      assertThat(s(kv.reader().get(Cf.DATA, b("a")))).isEqualTo("va");
      assertThat(s(kv.reader().get(Cf.DATA, b("b")))).isEqualTo("vb");
      assertThat(kv.reader().get(Cf.META, b("a"))).as("families are apart").isNull();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"rocksdb", "memory"})
  void aSnapshotDoesNotSeeBatchesWrittenAfterIt(String backend) {
    try (KvBackend kv = open(backend)) {
      putAll(kv, "a", "b", "c");
      try (KvSnapshot snap = kv.reader().snapshot()) {
        kv.write(batch -> {
          batch.put(Cf.DATA, b("a"), b("new"));
          batch.delete(Cf.DATA, b("b"));
          batch.put(Cf.DATA, b("d"), b("vd"));
          batch.deleteRange(Cf.DATA, b("c"), b("cz"));
        });
        assertThat(s(snap.get(Cf.DATA, b("a")))).isEqualTo("va");
        assertThat(snap.multiGet(Cf.DATA, List.of(b("d"), b("b"), b("c"))))
            .extracting(KvReaderTest::s).containsExactly(null, "vb", "vc");
        assertThat(scan(snap, "", "", false, 10)).containsExactly("a=va", "b=vb", "c=vc");
        assertThat(s(snap.lastKey(Cf.DATA, NONE))).isEqualTo("c");
      }
      try (KvSnapshot now = kv.reader().snapshot()) {
        assertThat(scan(now, "", "", false, 10)).containsExactly("a=new", "d=vd");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"rocksdb", "memory"})
  void aScanIncludesItsLowerBoundExcludesItsUpperAndStopsWhenTheVisitorDoes(String backend) {
    try (KvBackend kv = open(backend)) {
      putAll(kv, "a", "b", "c", "d", "e");
      try (KvSnapshot snap = kv.reader().snapshot()) {
        assertThat(scan(snap, "b", "d", false, 10)).containsExactly("b=vb", "c=vc");
        assertThat(scan(snap, "b", "d", true, 10)).containsExactly("c=vc", "b=vb");
        assertThat(scan(snap, "bb", "", false, 10)).as("empty upper: to the end")
            .containsExactly("c=vc", "d=vd", "e=ve");
        assertThat(scan(snap, "", "c", true, 10)).as("empty lower: from the start").containsExactly("b=vb", "a=va");
        assertThat(scan(snap, "a", "", false, 2)).containsExactly("a=va", "b=vb");
        assertThat(scan(snap, "a", "", true, 2)).containsExactly("e=ve", "d=vd");
        assertThat(scan(snap, "c", "c", false, 10)).isEmpty();
        assertThat(scan(snap, "d", "b", false, 10)).as("inverted bounds").isEmpty();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"rocksdb", "memory"})
  void keysCompareAsUnsignedBytes(String backend) {
    try (KvBackend kv = open(backend)) {
      byte[] low = {0x01};
      byte[] high = {(byte) 0xff};
      byte[] highLonger = {(byte) 0xff, 0x00};
      kv.write(batch -> {
        batch.put(Cf.DATA, high, b("high"));
        batch.put(Cf.DATA, highLonger, b("longer"));
        batch.put(Cf.DATA, low, b("low"));
      });
      try (KvSnapshot snap = kv.reader().snapshot()) {
        List<byte[]> keys = new ArrayList<>();
        snap.scan(Cf.DATA, NONE, NONE, at -> keys.add(at.key()));
        assertThat(keys).containsExactly(low, high, highLonger);
        assertThat(snap.lastKey(Cf.DATA, high)).isEqualTo(highLonger);
        assertThat(snap.lastKey(Cf.DATA, new byte[] {(byte) 0xff, 0x01})).as("nothing at or after").isNull();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"rocksdb", "memory"})
  void aBatchAppliesInCallOrder(String backend) {
    try (KvBackend kv = open(backend)) {
      kv.write(batch -> {
        batch.put(Cf.DATA, b("a"), b("1"));
        batch.put(Cf.DATA, b("b"), b("1"));
        batch.deleteRange(Cf.DATA, b("a"), b("z"));
        batch.put(Cf.DATA, b("b"), b("2"));
      });
      assertThat(kv.reader().get(Cf.DATA, b("a"))).isNull();
      assertThat(s(kv.reader().get(Cf.DATA, b("b")))).isEqualTo("2");
      byte[] v = kv.reader().get(Cf.DATA, b("b"));
      Arrays.fill(v, (byte) 'x');
      assertThat(s(kv.reader().get(Cf.DATA, b("b")))).as("returned arrays are the caller's").isEqualTo("2");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"rocksdb", "memory"})
  void aRangeDeleteThatStartsAfterItEndsIsRefused(String backend) {
    try (KvBackend kv = open(backend); StorageBatch batch = kv.newBatch()) {
      assertThatThrownBy(() -> batch.deleteRange(Cf.DATA, b("b"), b("a")))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("starts after it ends");
    }
  }

  @Test
  void aMemoryBatchRefusesGroupOperations() {
    try (KvBackend kv = KvBackend.memory(); StorageBatch batch = kv.newBatch()) {
      assertThatThrownBy(() -> batch.setApplied(1, 5)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("group operations need a NodeStorage");
    }
  }
}
