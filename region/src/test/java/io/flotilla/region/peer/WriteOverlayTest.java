package io.flotilla.region.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The overlay answers as replaying its writes in order would, whether its index was built before,
 * between or after the writes (it is lazy), across child overlays merged into their parent.
 * Seeded: a failure names its seed; {@code -Dflotilla.seed=N} runs just that one.
 */
class WriteOverlayTest {
  private record W(byte[] key, byte[] value, byte[] end) {}

  static long[] seeds() {
    String one = System.getProperty("flotilla.seed");
    if (one != null) {
      return new long[] {Long.parseLong(one)};
    }
    long[] s = new long[200];
    for (int i = 0; i < s.length; i++) {
      s[i] = 1000 + i;
    }
    return s;
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void answersAsAnInOrderReplayWould(long seed) {
    Random rnd = new Random(seed);
    WriteOverlay root = new WriteOverlay(null);
    List<W> model = new ArrayList<>();
    for (int request = 0; request < 20; request++) {
      WriteOverlay child = new WriteOverlay(root);
      List<W> childModel = new ArrayList<>(model);
      int ops = 1 + rnd.nextInt(6);
      for (int i = 0; i < ops; i++) {
        int kind = rnd.nextInt(10);
        byte[] k = key(rnd);
        if (kind < 5) {
          byte[] v = new byte[] {(byte) rnd.nextInt(100)};
          child.put(k, v);
          childModel.add(new W(k, v, null));
        } else if (kind < 7) {
          child.delete(k);
          childModel.add(new W(k, null, null));
        } else if (kind < 8) {
          byte[] end = rnd.nextInt(4) == 0 ? new byte[0] : key(rnd);
          child.deleteRange(k, end);
          childModel.add(new W(k, null, end));
        } else {
          check(seed, child, childModel, rnd);
        }
      }
      if (rnd.nextBoolean()) {
        child.mergeInto(root);
        model = childModel;
      }
      if (rnd.nextInt(3) == 0) {
        check(seed, root, model, rnd);
      }
    }
    check(seed, root, model, rnd);
  }

  private static void check(long seed, WriteOverlay o, List<W> model, Random rnd) {
    for (int i = 0; i < 5; i++) {
      byte[] k = key(rnd);
      WriteOverlay.Lookup got = o.get(k);
      W last = null;
      for (W w : model) {
        boolean covers = w.end == null ? KeyRange.compare(w.key, k) == 0 : KeyRange.contains(w.key, w.end, k);
        if (covers) {
          last = w;
        }
      }
      assertThat(got.known()).as("seed %d: known(%s)", seed, k[0]).isEqualTo(last != null);
      if (last != null) {
        assertThat(got.value()).as("seed %d: value(%s)", seed, k[0]).isEqualTo(last.end == null ? last.value : null);
      }
      byte[] end = rnd.nextBoolean() ? new byte[0] : key(rnd);
      byte[] best = null;
      for (W w : model) {
        if (w.end == null && KeyRange.contains(k, end, w.key) && (best == null || KeyRange.compare(w.key, best) > 0)) {
          best = w.key;
        }
      }
      assertThat(o.lastPointIn(k, end)).as("seed %d: lastPointIn", seed).isEqualTo(best);
    }
  }

  private static byte[] key(Random rnd) {
    return new byte[] {(byte) ('a' + rnd.nextInt(12))};
  }
}
