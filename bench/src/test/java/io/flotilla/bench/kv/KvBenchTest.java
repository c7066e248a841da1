package io.flotilla.bench.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.flotilla.bench.BenchException;
import io.flotilla.pd.LocalCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Keeps {@code bench kv} from breaking silently: a tiny embedded run, and its usage errors. */
class KvBenchTest {

  @TempDir
  Path tmp;

  @Test
  void tinyEmbeddedRunLoadsPrintsProgressAndWritesTheJsonKeys() throws Exception {
    Path json = tmp.resolve("out/kv.json");
    StringWriter out = new StringWriter();
    int code = command(out, new StringWriter()).execute("--embedded", "--keys", "2000", "--duration", "2s",
        "--warmup", "1s", "--concurrency", "32", "--fsync", "false", "--dir", tmp.resolve("data").toString(),
        "--json", json.toString());

    String printed = out.toString();
    assertThat(code).as(printed).isZero();
    assertThat(printed).contains("cluster ready", "loaded 2,000 keys", "ops/s", "get latency", "put latency",
        "entries per fsync", "cpu cores used", "errors");
    assertThat(Pattern.compile("(?m)^\\s+\\d+\\.\\ds warmup\\s+[\\d,]+ ops/s  p99 +[\\d.]+ ms  errors \\d+$")
        .matcher(printed).find()).as(printed).isTrue();
    assertThat(Pattern.compile("(?m)^\\s+\\d+\\.\\ds\\s+[\\d,]+ ops/s  p99 +[\\d.]+ ms  errors \\d+$")
        .matcher(printed).find()).as(printed).isTrue();

    String text = Files.readString(json);
    for (String key : new String[] {"ops_per_sec", "p50_ms", "p99_ms", "p999_ms", "entries_per_fsync", "cpu_cores",
        "reads", "writes", "read_p50_ms", "read_p99_ms", "write_p50_ms", "write_p99_ms", "errors",
        "errors_outcome_unknown", "errors_deadline", "errors_other", "keys", "concurrency", "read_ratio",
        "value_bytes", "fsync"}) {
      assertThat(text).contains("\"" + key + "\":");
    }
    assertThat(number(text, "ops_per_sec")).isPositive();
    double p50 = number(text, "p50_ms");
    double p99 = number(text, "p99_ms");
    double p999 = number(text, "p999_ms");
    assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
    assertThat(p99).isLessThanOrEqualTo(p999);
    assertThat(number(text, "read_p50_ms")).isPositive().isLessThanOrEqualTo(number(text, "read_p99_ms"));
    assertThat(number(text, "write_p50_ms")).isPositive().isLessThanOrEqualTo(number(text, "write_p99_ms"));
    assertThat(number(text, "reads")).isGreaterThan(number(text, "writes"));
    assertThat(number(text, "reads_not_found")).isZero();
    assertThat(number(text, "load_keys")).isEqualTo(2000);
    assertThat(number(text, "cpu_cores")).isPositive();
    assertThat(number(text, "entries_written")).isPositive();
    // With fsync off there are no fsyncs to divide by.
    assertThat(text).contains("\"entries_per_fsync\": null", "\"fsync\": false");
    assertThat(number(text, "errors")).isZero();
    assertThat(Files.exists(tmp.resolve("data/store-1"))).isTrue();
  }

  @Test
  void remoteRunReportsNoStorageFigures() throws Exception {
    Path json = tmp.resolve("remote.json");
    StringWriter out = new StringWriter();
    int code;
    try (LocalCluster cluster = LocalCluster.builder(tmp.resolve("cluster")).stores(1)
        .storeConfig(c -> c.withStorage(c.storage().withFsync(false))).start()) {
      code = command(out, new StringWriter()).execute("--pd", cluster.pdAddress(), "--keys", "500", "--read-ratio",
          "0", "--duration", "1s", "--warmup", "0s", "--concurrency", "8", "--json", json.toString());
    }

    assertThat(code).as(out.toString()).isZero();
    assertThat(out.toString()).contains("n/a (remote cluster)", "get latency         n/a (none)");
    String text = Files.readString(json);
    assertThat(text).contains("\"mode\": \"remote\"", "\"entries_per_fsync\": null", "\"read_p50_ms\": null",
        "\"reads\": 0");
    assertThat(number(text, "writes")).isPositive();
    assertThat(number(text, "write_p50_ms")).isPositive();
  }

  @Test
  void badOptionsAreUsageErrorsNamingTheOption() {
    assertUsageError("--read-ratio must be in [0, 1], got 1.5", "--embedded", "--read-ratio", "1.5");
    assertUsageError("--value-size must be in [1, 1048576] bytes, got 0", "--embedded", "--value-size", "0");
    assertUsageError("--keys must be in [1, 10000000000], got 0", "--keys", "0");
    assertUsageError("--concurrency must be in [1, 100000], got 0", "--concurrency", "0");
    assertUsageError("'soon' is not a duration", "--duration", "soon");
    assertUsageError("'maybe' is not a boolean", "--embedded", "--fsync", "maybe");
    assertUsageError("--pd and --embedded exclude each other", "--embedded", "--pd", "127.0.0.1:2379");
    assertUsageError("--stores applies only with --embedded", "--stores", "5");
    assertUsageError("--pd must be host:port", "--pd", "nowhere");
    assertUsageError("--regions must be in [1, min(4096, --keys)], got 0", "--embedded", "--regions", "0");
    assertUsageError("--regions must be in [1, min(4096, --keys)], got 20", "--embedded", "--keys", "10",
        "--regions", "20");
    assertUsageError("--restart applies only with --embedded", "--restart");
  }

  @Test
  void moreThanOnePercentFailedEndsTheCommandWithTheCounts() {
    KvWorkload.Measurement twoInAHundred = measurement(new KvLoadGenerator.Errors(1, 0, 1));
    assertThatThrownBy(() -> KvBench.failIfTooManyErrors(twoInAHundred, 98))
        .isInstanceOf(BenchException.class)
        .hasMessageContaining("2.00% of the measured operations failed, more than 1%")
        .hasMessageContaining("outcome unknown 1, deadline 0, other 1")
        .hasMessageContaining("first: put: boom");
    assertThatThrownBy(() -> KvBench.failIfTooManyErrors(measurement(KvLoadGenerator.Errors.ZERO), 0))
        .isInstanceOf(BenchException.class)
        .hasMessageContaining("no operation succeeded");
    KvBench.failIfTooManyErrors(measurement(new KvLoadGenerator.Errors(1, 0, 0)), 99);
  }

  private static KvWorkload.Measurement measurement(KvLoadGenerator.Errors errors) {
    return new KvWorkload.Measurement(1_000_000_000L, errors, 0, 0, null, errors.total() == 0 ? null : "put: boom");
  }

  @Test
  void keysHaveAFixedWidthAndSortInIndexOrder() {
    assertThat(new String(KeySpace.key(0), StandardCharsets.US_ASCII)).isEqualTo("user0000000000");
    assertThat(KeySpace.name(42)).isEqualTo("user0000000042");
    assertThat(KeySpace.name(KeySpace.MAX_KEYS - 1)).isEqualTo("user9999999999");
    assertThat(Arrays.compareUnsigned(KeySpace.key(9), KeySpace.key(10))).isNegative();
  }

  @Test
  void loadChunksStayUnderTheBatchBudget() {
    assertThat(Loader.chunkKeys(100)).isEqualTo(1_000);
    assertThat(Loader.chunkKeys(64 * 1024)).isEqualTo(15);
    assertThat(Loader.chunkKeys(1 << 20)).isEqualTo(1);
  }

  @Test
  void ticksFallOnWholeSecondsAndTheEndOfTheWarmup() {
    assertThat(KvWorkload.schedule(Duration.ofMillis(1500), Duration.ofMillis(2500)))
        .extracting(t -> t.atNanos() / 1_000_000, KvWorkload.Tick::warmup)
        .containsExactly(
            tuple(1000L, true),
            tuple(1500L, true),
            tuple(2500L, false),
            tuple(3500L, false),
            tuple(4000L, false));
  }

  private static void assertUsageError(String message, String... args) {
    StringWriter err = new StringWriter();
    assertThat(command(new StringWriter(), err).execute(args)).as(err.toString()).isEqualTo(2);
    assertThat(err.toString()).contains(message);
  }

  private static CommandLine command(StringWriter out, StringWriter err) {
    return new CommandLine(new KvBench()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
  }

  private static double number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+)").matcher(json);
    assertThat(m.find()).as(key + " in " + json).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
