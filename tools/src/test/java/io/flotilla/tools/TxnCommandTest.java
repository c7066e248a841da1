package io.flotilla.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.pd.LocalCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flotilla txn}: operations as one transaction, and its usage errors (one line, exit 2). */
class TxnCommandTest {
  @TempDir
  static Path dir;
  static LocalCluster cluster;

  @BeforeAll
  static void start() {
    cluster = LocalCluster.builder(dir).stores(3).storeConfig(c -> c.withStorage(c.storage().withFsync(false)))
        .start();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private record Run(int exit, String out, String err) {}

  private static Run flotilla(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Flotilla.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void operationsCommitTogetherAndReadsSeeTheSnapshotAndOwnWrites() {
    String pd = cluster.pdAddress();
    Run w = flotilla("txn", "--pd", pd, "put", "acct-a", "10", "put", "acct-b", "20", "get", "acct-a");
    assertThat(w.exit()).as(w.toString()).isZero();
    assertThat(w.out()).contains("acct-a=10").containsPattern("committed at \\d+ \\(20\\d\\d-");

    Run r = flotilla("txn", "--pd", pd, "get", "acct-a", "get", "acct-b", "get", "acct-c", "del", "acct-b");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("acct-a=10", "acct-b=20", "acct-c (not found)");

    Run after = flotilla("txn", "--pd", pd, "get", "acct-b");
    assertThat(after.out()).contains("acct-b (not found)");
    Run raw = flotilla("kv", "--pd", pd, "get", "acct-a");
    assertThat(raw.exit()).as("raw KV and transactions are separate key spaces: " + raw).isEqualTo(1);
  }

  @Test
  void aMalformedScriptIsOneLineAndExitTwo() {
    Run missing = flotilla("txn", "--pd", cluster.pdAddress(), "put", "k");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("'put' at word 1 needs KEY VALUE").doesNotContain("Exception");
    Run unknown = flotilla("txn", "--pd", cluster.pdAddress(), "get", "k", "frob", "x");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("unknown operation 'frob' (at word 3)").doesNotContain("\tat ");
  }
}
