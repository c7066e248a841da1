package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Applies the same random batches (puts, deletes, range deletes over a small key space with bytes
 * on both sides of 0x80) to RocksDB and to {@link MemoryKv}, and checks that every read answers the
 * same: gets, and on snapshots held across later batches gets, multi-gets, scans (random bounds,
 * direction, limit) and last keys. A failure names its seed; {@code -Dflotilla.seed=N} replays it.
 */
class KvViewDifferentialTest {
  private static final int RUNS = 6;
  private static final int STEPS = 400;
  private static final int MAX_SNAPSHOTS = 3;
  private static final byte[] ALPHABET = {0x00, 0x01, 'a', 'b', 0x7f, (byte) 0x80, (byte) 0xff};

  @TempDir Path dir;

  @Test
  void theRocksViewAnswersExactlyAsItsTwin() {
    Long replay = Long.getLong("flotilla.seed");
    if (replay != null) {
      run(replay);
      return;
    }
    SplittableRandom seeds = new SplittableRandom();
    for (int i = 0; i < RUNS; i++) {
      run(seeds.nextLong());
    }
  }

  private void run(long seed) {
    try (KvBackend rocks = KvBackend.rocks(dir.resolve("run-" + Long.toUnsignedString(seed)));
        KvBackend memory = KvBackend.memory()) {
      new Run(new SplittableRandom(seed), rocks, memory).execute();
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("differential run failed; replay with -Dflotilla.seed=" + seed + " (" + e + ")", e);
    }
  }

  private static final class Run {
    private final SplittableRandom rnd;
    private final KvBackend rocks;
    private final KvBackend memory;
    /** Pairs taken at the same moment: [rocks, memory]. */
    private final List<KvSnapshot[]> snapshots = new ArrayList<>();

    Run(SplittableRandom rnd, KvBackend rocks, KvBackend memory) {
      this.rnd = rnd;
      this.rocks = rocks;
      this.memory = memory;
    }

    void execute() {
      try {
        for (int step = 0; step < STEPS; step++) {
          int op = rnd.nextInt(10);
          if (op < 4) {
            writeBatch();
          } else if (op < 5) {
            byte[] k = key(1);
            assertThat(hex(rocks.reader().get(Cf.DATA, k))).as("get %s", hex(k))
                .isEqualTo(hex(memory.reader().get(Cf.DATA, k)));
          } else if (op < 6 && snapshots.size() < MAX_SNAPSHOTS) {
            snapshots.add(new KvSnapshot[] {rocks.reader().snapshot(), memory.reader().snapshot()});
          } else if (op < 7 && !snapshots.isEmpty()) {
            for (KvSnapshot s : snapshots.remove(rnd.nextInt(snapshots.size()))) {
              s.close();
            }
          } else {
            try (KvSnapshot r = rocks.reader().snapshot(); KvSnapshot m = memory.reader().snapshot()) {
              KvSnapshot[] pair = snapshots.isEmpty() || rnd.nextBoolean() ? new KvSnapshot[] {r, m}
                  : snapshots.get(rnd.nextInt(snapshots.size()));
              compareReads(pair[0], pair[1]);
            }
          }
        }
        try (KvSnapshot r = rocks.reader().snapshot(); KvSnapshot m = memory.reader().snapshot()) {
          assertThat(scan(r, new byte[0], new byte[0], false, Integer.MAX_VALUE))
              .isEqualTo(scan(m, new byte[0], new byte[0], false, Integer.MAX_VALUE));
        }
      } finally {
        for (KvSnapshot[] pair : snapshots) {
          pair[0].close();
          pair[1].close();
        }
      }
    }

    private void writeBatch() {
      int n = 1 + rnd.nextInt(5);
      List<byte[][]> ops = new ArrayList<>(); // {kind, key, value-or-end}
      for (int i = 0; i < n; i++) {
        int kind = rnd.nextInt(6);
        if (kind < 3) {
          ops.add(new byte[][] {{0}, key(1), value()});
        } else if (kind < 5) {
          ops.add(new byte[][] {{1}, key(1), null});
        } else {
          byte[] a = key(0);
          byte[] b = key(1);
          boolean ordered = java.util.Arrays.compareUnsigned(a, b) <= 0;
          ops.add(new byte[][] {{2}, ordered ? a : b, ordered ? b : a});
        }
      }
      for (KvBackend kv : List.of(rocks, memory)) {
        kv.write(batch -> {
          for (byte[][] op : ops) {
            switch (op[0][0]) {
              case 0 -> batch.put(Cf.DATA, op[1], op[2]);
              case 1 -> batch.delete(Cf.DATA, op[1]);
              default -> batch.deleteRange(Cf.DATA, op[1], op[2]);
            }
          }
        });
      }
    }

    private void compareReads(KvSnapshot r, KvSnapshot m) {
      switch (rnd.nextInt(4)) {
        case 0 -> {
          byte[] k = key(1);
          assertThat(hex(r.get(Cf.DATA, k))).as("snapshot get %s", hex(k)).isEqualTo(hex(m.get(Cf.DATA, k)));
        }
        case 1 -> {
          List<byte[]> keys = new ArrayList<>();
          for (int i = rnd.nextInt(5); i > 0; i--) {
            keys.add(key(1));
          }
          assertThat(r.multiGet(Cf.DATA, keys).stream().map(KvViewDifferentialTest::hex).toList()).as("multiGet")
              .isEqualTo(m.multiGet(Cf.DATA, keys).stream().map(KvViewDifferentialTest::hex).toList());
        }
        case 2 -> {
          byte[] lower = key(0);
          byte[] upper = key(0);
          boolean reverse = rnd.nextBoolean();
          int limit = 1 + rnd.nextInt(20);
          assertThat(scan(r, lower, upper, reverse, limit))
              .as("scan [%s, %s) reverse=%s limit=%d", hex(lower), hex(upper), reverse, limit)
              .isEqualTo(scan(m, lower, upper, reverse, limit));
        }
        default -> {
          byte[] from = key(0);
          assertThat(hex(r.lastKey(Cf.DATA, from))).as("lastKey from %s", hex(from))
              .isEqualTo(hex(m.lastKey(Cf.DATA, from)));
        }
      }
    }

    /** 1 to 3 bytes from {@link #ALPHABET}, or from {@code minLength} (0: may be empty). */
    private byte[] key(int minLength) {
      byte[] k = new byte[minLength + rnd.nextInt(4 - minLength)];
      for (int i = 0; i < k.length; i++) {
        k[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
      }
      return k;
    }

    private byte[] value() {
      byte[] v = new byte[rnd.nextInt(8)];
      rnd.nextBytes(v);
      return v;
    }
  }

  private static List<String> scan(KvSnapshot snap, byte[] lower, byte[] upper, boolean reverse, int limit) {
    List<String> out = new ArrayList<>();
    snap.scan(Cf.DATA, lower, upper, reverse, at -> {
      out.add(hex(at.key()) + "=" + hex(at.value()));
      return out.size() < limit;
    });
    return out;
  }

  private static String hex(byte[] b) {
    return b == null ? "null" : HexFormat.of().formatHex(b);
  }
}
