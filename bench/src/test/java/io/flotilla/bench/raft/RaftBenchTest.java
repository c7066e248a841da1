package io.flotilla.bench.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Keeps {@code bench raft} from breaking silently: a tiny real run, and its usage errors. */
class RaftBenchTest {

  @TempDir
  Path tmp;

  @Test
  void tinyRunPrintsProgressAndWritesTheJsonKeys() throws Exception {
    Path json = tmp.resolve("out/raft.json");
    StringWriter out = new StringWriter();
    int code = command(out, new StringWriter()).execute("--groups", "4", "--payload", "16", "--concurrency", "16",
        "--warmup", "500ms", "--duration", "2s", "--json", json.toString());

    assertThat(code).as(out.toString()).isZero();
    assertThat(out.toString()).contains("warmup", "ops/s", "proposals/s", "entries per fsync", "cpu cores used");
    String text = Files.readString(json);
    for (String key : new String[] {"ops_per_sec", "p50_ms", "p99_ms", "p999_ms", "entries_per_fsync", "cpu_cores",
        "groups", "concurrency", "fsync"}) {
      assertThat(text).contains("\"" + key + "\":");
    }
    assertThat(number(text, "ops_per_sec")).isPositive();
    assertThat(number(text, "p99_ms")).isPositive();
    assertThat(number(text, "entries_per_fsync")).isPositive();
  }

  @Test
  void nodeProcessesReportToTheParent() throws Exception {
    Path json = tmp.resolve("processes.json");
    StringWriter out = new StringWriter();
    int code = command(out, new StringWriter()).execute("--processes", "--groups", "3", "--concurrency", "8",
        "--warmup", "0s", "--duration", "1s", "--node-java-opts", "-Xmx256m", "--json", json.toString());

    assertThat(code).as(out.toString()).isZero();
    String text = Files.readString(json);
    assertThat(text).contains("\"processes\": true");
    assertThat(number(text, "ops_per_sec")).isPositive();
    assertThat(number(text, "cpu_cores")).isPositive();
  }

  @Test
  void badOptionsAreUsageErrors() {
    StringWriter err = new StringWriter();
    assertThat(command(new StringWriter(), err).execute("--groups", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--groups must be in [1, 1000000], got 0");

    err = new StringWriter();
    assertThat(command(new StringWriter(), err).execute("--fsync", "maybe")).isEqualTo(2);
    assertThat(err.toString()).contains("'maybe' is not a boolean");

    err = new StringWriter();
    assertThat(command(new StringWriter(), err).execute("--duration", "soon")).isEqualTo(2);
    assertThat(err.toString()).contains("'soon' is not a duration");
  }

  @Test
  void everyJvmTicksOnTheSameSchedule() {
    assertThat(Workload.schedule(Duration.ofMillis(1500), Duration.ofMillis(2500)))
        .extracting(t -> t.atNanos() / 1_000_000, Workload.Tick::warmup)
        .containsExactly(
            tuple(1000L, true),
            tuple(1500L, true),
            tuple(2500L, false),
            tuple(3500L, false),
            tuple(4000L, false));
  }

  @Test
  void concurrencyIsSharedByGroupsLed() {
    assertThat(Workload.slots(1024, 86, 256)).isEqualTo(344);
    assertThat(Workload.slots(1024, 0, 256)).isZero();
    assertThat(Workload.slots(1, 1, 256)).isEqualTo(1);
  }

  private static CommandLine command(StringWriter out, StringWriter err) {
    return new CommandLine(new RaftBench()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
  }

  private static double number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+)").matcher(json);
    assertThat(m.find()).as(key + " in " + json).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
