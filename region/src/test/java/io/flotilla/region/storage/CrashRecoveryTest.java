package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.HardState;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

/**
 * A child JVM writes synced batches (log entry, hard state, state machine data and applied index
 * together) and halts without closing anything, mid-stream. Reopening must find every batch it
 * acknowledged, and the data must match the applied index exactly (apply is exactly-once).
 */
class CrashRecoveryTest {
  private static final long GROUP = 1;

  @TempDir Path dir;

  @Test
  void everyAcknowledgedBatchSurvivesAProcessCrash() throws Exception {
    long acknowledged = runWriterUntilItHalts(dir, 300);

    try (NodeStorage node = NodeStorage.open(Fixtures.config(dir))) {
      RocksRaftStorage g = node.group(GROUP);
      long last = g.lastIndex();
      assertThat(last).isGreaterThanOrEqualTo(acknowledged);
      assertThat(g.appliedIndex()).isEqualTo(last);
      assertThat(g.hardState().commit()).isEqualTo(last);
      List<Entry> log = g.entries(1, last + 1, Long.MAX_VALUE);
      assertThat(log).hasSize((int) last);
      for (long i = 1; i <= last + 1; i++) {
        byte[] value = node.db().get(node.handle(Cf.DATA), CrashWriter.key(i));
        assertThat(value).as("data of index %d (applied %d)", i, last)
            .isEqualTo(i <= last ? CrashWriter.value(i) : null);
      }
    }
  }

  /** Starts {@link CrashWriter}, which halts itself after {@code haltAfterMs}; the last index it acknowledged. */
  private static long runWriterUntilItHalts(Path dir, long haltAfterMs)
      throws IOException, InterruptedException {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        CrashWriter.class.getName(), dir.toString(), Long.toString(haltAfterMs))
        .redirectErrorStream(false)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    long last = 0;
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith("ack ")) {
          last = Long.parseLong(line.substring(4));
        }
      }
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("writer exits").isTrue();
    assertThat(p.exitValue()).as("writer halted on purpose").isEqualTo(CrashWriter.HALT_STATUS);
    assertThat(last).as("writer acknowledged some batches").isPositive();
    return last;
  }

  /** The child process: writes until a timer halts the JVM, printing each acknowledged index. */
  static final class CrashWriter {
    static final int HALT_STATUS = 77;

    public static void main(String[] args) throws RocksDBException {
      Path dir = Path.of(args[0]);
      long haltAfterMs = Long.parseLong(args[1]);
      NodeStorage node = NodeStorage.open(StorageConfig.defaults(dir)
          .withBlockCacheBytes(8L << 20).withWriteBuffers(4L << 20, 2));
      node.createGroup(GROUP, ConfState.ofVoters(1L));
      Thread killer = new Thread(() -> {
        try {
          Thread.sleep(haltAfterMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        Runtime.getRuntime().halt(HALT_STATUS);
      });
      killer.setDaemon(true);
      killer.start();
      for (long i = 1; ; i++) {
        try (StorageBatch batch = node.newBatch()) {
          batch.append(GROUP, List.of(Entry.normal(1, i, value(i))));
          batch.setHardState(GROUP, new HardState(1, 1, i));
          batch.put(Cf.DATA, key(i), value(i));
          batch.setApplied(GROUP, i);
          node.write(batch);
        }
        System.out.println("ack " + i);
        System.out.flush();
      }
    }

    static byte[] key(long i) {
      return ("key-" + i).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(long i) {
      return ("value-" + i).getBytes(StandardCharsets.UTF_8);
    }
  }
}
