package io.flotilla.bench.txn;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Keeps {@code bench txn} from breaking silently: a tiny embedded bank, and its usage errors. */
class TxnBenchTest {
  @TempDir
  Path tmp;

  @Test
  void aTinyEmbeddedBankKeepsItsTotalAndWritesTheJsonKeys() throws Exception {
    Path json = tmp.resolve("txn.json");
    StringWriter out = new StringWriter();
    int code = command(out, new StringWriter()).execute("--embedded", "--accounts", "50", "--regions", "4",
        "--concurrency", "4", "--duration", "3s", "--warmup", "1s", "--json", json.toString());

    String printed = out.toString();
    assertThat(code).as(printed).isZero();
    assertThat(printed).contains("loaded 50 accounts", "txn/s", "transactions/s committed", "commit latency p50",
        "the total never changed");
    String text = Files.readString(json);
    for (String key : new String[] {"ops_per_sec", "committed", "write_conflicts", "aborts", "abort_rate",
        "commit_p50_ms", "commit_p99_ms", "one_phase_share", "snapshot_sums", "cpu_cores", "invariant_held"}) {
      assertThat(text).contains("\"" + key + "\":");
    }
    assertThat(number(text, "ops_per_sec")).isPositive();
    assertThat(number(text, "snapshot_sums")).isPositive();
    assertThat(number(text, "commit_p50_ms")).isPositive().isLessThanOrEqualTo(number(text, "commit_p99_ms"));
    assertThat(text).contains("\"invariant_held\": true");
  }

  @Test
  void badOptionsAreUsageErrors() {
    StringWriter err = new StringWriter();
    assertThat(command(new StringWriter(), err).execute("--embedded", "--pd", "127.0.0.1:1")).isEqualTo(2);
    assertThat(err.toString()).contains("--pd and --embedded exclude each other");
    StringWriter err2 = new StringWriter();
    assertThat(command(new StringWriter(), err2).execute("--embedded", "--accounts", "1")).isEqualTo(2);
    assertThat(err2.toString()).contains("--accounts >= 2");
  }

  private static CommandLine command(StringWriter out, StringWriter err) {
    return new CommandLine(new TxnBench()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
  }

  private static double number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+)").matcher(json);
    assertThat(m.find()).as(key + " in " + json).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
