package io.flotilla.region.txn;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.MemoryKv;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The apply call's overlay reads what storage and the committed children left, merged: seeded
 * random writes against a sorted map ({@code -Dflotilla.seed=N} replays).
 */
class TxnOverlayTest {
  private static final long SEED = Long.getLong("flotilla.seed", System.nanoTime());

  @RegisterExtension
  static final TestWatcher PRINT_SEED = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      System.out.printf("%s failed; replay with -Dflotilla.seed=%d%n", context.getDisplayName(), SEED);
    }
  };

  @Test
  void getsAndScansSeeStorageUnderCommittedChildrenAndNeverADroppedOne() {
    Random rnd = new Random(SEED);
    for (int round = 0; round < 200; round++) {
      MemoryKv kv = new MemoryKv();
      TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
      try (StorageBatch b = kv.newBatch()) {
        for (int i = 0; i < rnd.nextInt(20); i++) {
          byte[] k = key(rnd);
          byte[] v = {(byte) rnd.nextInt(256)};
          b.put(Cf.WRITE, k, v);
          model.put(k, v);
        }
        kv.write(b);
      }
      try (TxnOverlay root = TxnOverlay.root(kv); StorageBatch batch = kv.newBatch()) {
        for (int c = 0; c < 4; c++) {
          TxnOverlay child = root.child();
          TreeMap<byte[], byte[]> childModel = new TreeMap<>(model);
          for (int i = 0; i < rnd.nextInt(10); i++) {
            byte[] k = key(rnd);
            if (rnd.nextBoolean()) {
              byte[] v = {(byte) rnd.nextInt(256)};
              child.put(Cf.WRITE, k, v);
              childModel.put(k, v);
            } else {
              child.delete(Cf.WRITE, k);
              childModel.remove(k);
            }
            check(child, childModel, rnd);
          }
          if (rnd.nextBoolean()) {
            child.commitTo(batch);
            model = childModel;
          }
          check(root, model, rnd);
        }
        kv.write(batch);
      }
      List<String> stored = new ArrayList<>();
      try (var snap = kv.snapshot()) {
        snap.scan(Cf.WRITE, new byte[0], new byte[0], at -> stored.add(Arrays.toString(at.key())));
      }
      assertThat(stored).as("the batch holds what was committed").isEqualTo(keys(model));
    }
  }

  private static void check(TxnOverlay o, TreeMap<byte[], byte[]> model, Random rnd) {
    byte[] k = key(rnd);
    assertThat(o.get(Cf.WRITE, k)).isEqualTo(model.get(k));
    byte[] lo = rnd.nextInt(4) == 0 ? new byte[0] : key(rnd);
    byte[] hi = rnd.nextInt(4) == 0 ? new byte[0] : key(rnd);
    int limit = 1 + rnd.nextInt(8);
    List<String> seen = new ArrayList<>();
    o.scan(Cf.WRITE, lo, hi, at -> {
      seen.add(Arrays.toString(at.key()) + "=" + Arrays.toString(at.value()));
      return seen.size() < limit;
    });
    List<String> expected = new ArrayList<>();
    if (hi.length == 0 || Arrays.compareUnsigned(lo, hi) < 0) {
      for (Map.Entry<byte[], byte[]> e : (hi.length == 0 ? model.tailMap(lo, true) : model.subMap(lo, hi)).entrySet()) {
        if (expected.size() == limit) {
          break;
        }
        expected.add(Arrays.toString(e.getKey()) + "=" + Arrays.toString(e.getValue()));
      }
    }
    assertThat(seen).as("scan [%s, %s) limit %d", Arrays.toString(lo), Arrays.toString(hi), limit)
        .isEqualTo(expected);
  }

  private static List<String> keys(TreeMap<byte[], byte[]> m) {
    return m.keySet().stream().map(Arrays::toString).toList();
  }

  private static byte[] key(Random rnd) {
    byte[] k = new byte[1 + rnd.nextInt(2)];
    for (int i = 0; i < k.length; i++) {
      k[i] = (byte) rnd.nextInt(6);
    }
    return k;
  }
}
