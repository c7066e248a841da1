package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.EntryType;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.MemoryStorage;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.Storage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Applies the same random operations to {@link MemoryStorage} and to {@link RocksRaftStorage} (in
 * random batches of several groups, with reopens of the directory in between) and checks that every
 * read answers the same, exceptions included. Each run prints nothing unless it fails; a failure
 * names its seed, and {@code -Dflotilla.seed=N} replays exactly that run.
 */
class MemoryStorageDifferentialTest {
  private static final int RUNS = 8;
  private static final int ROUNDS = 150;
  private static final int REOPENS = 2;
  private static final int GROUPS = 3;

  @TempDir Path dir;

  @Test
  void rocksStorageAnswersExactlyAsMemoryStorage() {
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
    try {
      new Run(seed, dir.resolve("run-" + Long.toUnsignedString(seed))).execute();
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("differential run failed; replay with -Dflotilla.seed=" + seed
          + " (" + e + ")", e);
    }
  }

  /** One seeded run: {@link #GROUPS} groups, each with its twin {@link MemoryStorage}. */
  private static final class Run {
    private final SplittableRandom rnd;
    private final Path dir;
    private final StorageConfig config;
    private final MemoryStorage[] memory = new MemoryStorage[GROUPS];
    private NodeStorage node;
    private final List<String> trace = new ArrayList<>();

    Run(long seed, Path dir) {
      this.rnd = new SplittableRandom(seed);
      this.dir = dir;
      long[] cacheSizes = {0, 200, 2_000, 1 << 20};
      long perGroup = cacheSizes[rnd.nextInt(cacheSizes.length)];
      long total = rnd.nextBoolean() ? perGroup : perGroup * GROUPS;
      // NB: durability is not under test here, and fsync costs dominate the run time
      this.config = Fixtures.config(dir).withFsync(false).withEntryCache(perGroup, total);
    }

    void execute() {
      node = NodeStorage.open(config);
      try {
        try (StorageBatch batch = node.newBatch()) {
          for (int g = 0; g < GROUPS; g++) {
            boolean voters = rnd.nextBoolean();
            memory[g] = voters ? MemoryStorage.withVoters(1L, 2L, 3L) : new MemoryStorage();
            batch.createGroup(id(g), voters ? ConfState.ofVoters(1L, 2L, 3L) : ConfState.EMPTY);
          }
          node.write(batch);
        }
        long reopenEvery = ROUNDS / (REOPENS + 1);
        for (int round = 1; round <= ROUNDS; round++) {
          writeBatch();
          for (int g = 0; g < GROUPS; g++) {
            compare(g);
          }
          if (round % reopenEvery == 0 && round < ROUNDS) {
            trace.add("reopen");
            node.close();
            node = NodeStorage.open(config);
            for (int g = 0; g < GROUPS; g++) {
              compare(g);
            }
          }
        }
      } catch (AssertionError | RuntimeException e) {
        int from = Math.max(0, trace.size() - 25);
        throw new AssertionError("last operations: " + trace.subList(from, trace.size()), e);
      } finally {
        node.close();
      }
    }

    private void writeBatch() {
      try (StorageBatch batch = node.newBatch()) {
        int ops = 1 + rnd.nextInt(5);
        for (int i = 0; i < ops; i++) {
          int g = rnd.nextInt(GROUPS);
          randomOp(batch, g);
        }
        node.write(batch);
        trace.add("write");
      }
    }

    private void randomOp(StorageBatch batch, int g) {
      MemoryStorage mem = memory[g];
      long first = mem.firstIndex();
      long last = mem.lastIndex();
      long snap = mem.snapshot().index();
      int kind = rnd.nextInt(100);
      if (kind < 55) {
        List<Entry> ents = randomEntries(between(Math.max(1, first - 3), last + 2), rnd.nextInt(6));
        same(g, "append " + describe(ents), () -> { mem.append(ents); return null; },
            () -> { batch.append(id(g), ents); return null; });
      } else if (kind < 70) {
        HardState hs = new HardState(rnd.nextLong(10), rnd.nextLong(4), rnd.nextLong(last + 1));
        same(g, "hardState " + hs, () -> { mem.setHardState(hs); return null; },
            () -> { batch.setHardState(id(g), hs); return null; });
      } else if (kind < 85) {
        long index = between(Math.max(0, first - 2), last + 1);
        same(g, "compact " + index, () -> { mem.compact(index); return null; },
            () -> { batch.compact(id(g), index); return null; });
      } else if (kind < 93) {
        long index = between(Math.max(0, snap - 1), last + 1);
        ConfState cs = randomConfState();
        same(g, "createSnapshot " + index, () -> mem.createSnapshot(index, cs, new byte[0]).metadata(),
            () -> batch.createSnapshot(id(g), index, cs));
      } else {
        SnapshotMetadata meta =
            new SnapshotMetadata(randomConfState(), between(Math.max(0, snap - 1), last + 6),
                1 + rnd.nextLong(10));
        same(g, "applySnapshot " + meta.index() + "/" + meta.term(),
            () -> { mem.applySnapshot(new Snapshot(new byte[0], meta)); return null; },
            () -> { batch.applySnapshot(id(g), meta); return null; });
      }
    }

    /** Runs an operation on both; both must fail with the same exception type or both succeed. */
    private void same(int g, String op, Supplier<Object> onMemory, Supplier<Object> onRocks) {
      trace.add("g" + id(g) + " " + op);
      Object expected = outcome(onMemory);
      Object actual = outcome(onRocks);
      assertThat(actual).as("g%d %s", id(g), op).isEqualTo(expected);
    }

    private void compare(int g) {
      MemoryStorage mem = memory[g];
      Storage rocks = node.group(id(g));
      String ctx = "group " + id(g);
      assertThat(rocks.firstIndex()).as(ctx + " firstIndex").isEqualTo(mem.firstIndex());
      assertThat(rocks.lastIndex()).as(ctx + " lastIndex").isEqualTo(mem.lastIndex());
      assertThat(rocks.initialState()).as(ctx + " initialState").isEqualTo(mem.initialState());
      Snapshot memSnap = mem.snapshot();
      Snapshot rocksSnap = rocks.snapshot();
      assertThat(rocksSnap.metadata()).as(ctx + " snapshot").isEqualTo(memSnap.metadata());
      assertThat(rocksSnap.data()).as(ctx + " snapshot data").isEmpty();
      long first = mem.firstIndex();
      long last = mem.lastIndex();
      List<Long> probes = new ArrayList<>();
      for (long i = Math.max(0, first - 3); i <= first + 1; i++) {
        probes.add(i);
      }
      for (long i = Math.max(0, last - 1); i <= last + 2; i++) {
        probes.add(i);
      }
      for (int k = 0; k < 4; k++) {
        probes.add(between(Math.max(0, first - 3), last + 2));
      }
      for (long index : probes) {
        assertThat(outcome(() -> rocks.term(index))).as(ctx + " term(" + index + ")")
            .isEqualTo(outcome(() -> mem.term(index)));
      }
      for (int k = 0; k < 3; k++) {
        long lo = between(Math.max(0, first - 2), last + 2);
        long hi = between(Math.max(0, lo - 1), last + 3);
        long maxSize = switch (rnd.nextInt(4)) {
          case 0 -> 0;
          case 1 -> Long.MAX_VALUE;
          default -> rnd.nextLong(300);
        };
        assertThat(outcome(() -> rocks.entries(lo, hi, maxSize)))
            .as("%s entries(%d, %d, %d)", ctx, lo, hi, maxSize)
            .isEqualTo(outcome(() -> mem.entries(lo, hi, maxSize)));
      }
    }

    private List<Entry> randomEntries(long from, int count) {
      List<Entry> out = new ArrayList<>();
      long term = 1 + rnd.nextLong(8);
      for (int i = 0; i < count; i++) {
        byte[] data = new byte[rnd.nextInt(64)];
        rnd.nextBytes(data);
        EntryType type = rnd.nextInt(10) == 0 ? EntryType.CONF_CHANGE : EntryType.NORMAL;
        out.add(new Entry(term, from + i, type, data));
      }
      return out;
    }

    private ConfState randomConfState() {
      List<Long> voters = new ArrayList<>();
      for (long id = 1; id <= 5; id++) {
        if (rnd.nextBoolean()) {
          voters.add(id);
        }
      }
      List<Long> outgoing = rnd.nextInt(4) == 0 ? List.of(1L, 2L, 3L) : List.of();
      return new ConfState(voters, rnd.nextBoolean() ? List.of(9L) : List.of(), outgoing,
          List.of(), !outgoing.isEmpty() && rnd.nextBoolean());
    }

    private long between(long lo, long hiInclusive) {
      return hiInclusive <= lo ? lo : lo + rnd.nextLong(hiInclusive - lo + 1);
    }

    private static long id(int g) {
      return 100 + g;
    }

    private static String describe(List<Entry> ents) {
      return ents.isEmpty() ? "[]" : ents.get(0).index() + ".." + ents.get(ents.size() - 1).index()
          + "@t" + ents.get(0).term();
    }
  }

  /** A value or the type of the exception thrown, comparable across the two storages. */
  private static Object outcome(Supplier<Object> op) {
    try {
      return op.get();
    } catch (RuntimeException e) {
      return e.getClass();
    }
  }
}
