package io.flotilla.bench.txn;

import io.flotilla.bench.BenchException;
import io.flotilla.bench.BenchFiles;
import io.flotilla.bench.DurationConverter;
import io.flotilla.bench.PdAddresses;
import io.flotilla.bench.kv.KvTarget;
import io.flotilla.bench.kv.Presplit;
import io.flotilla.router.KeyLockedException;
import io.flotilla.router.KvEntry;
import io.flotilla.router.KvException;
import io.flotilla.router.RouterConfig;
import io.flotilla.router.Txn;
import io.flotilla.router.TxnAbortedException;
import io.flotilla.router.TxnClient;
import io.flotilla.router.WriteConflictException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla bench txn}: the bank. {@code --accounts} accounts (acct00000000, ...) of 1000
 * each, spread over {@code --regions} pre-split regions; {@code --concurrency} threads each run
 * transfers (read two random accounts, move a random amount, commit) back to back, retrying on a
 * write conflict; a reader sums every account in one snapshot every second. If a sum ever differs
 * from the total, the invariant is broken: the bench says so and exits 1.
 */
@Command(name = "txn", mixinStandardHelpOptions = true, sortOptions = false,
    header = "Transactions per second on a bank workload; fails if the total of the accounts ever changes.",
    description = {"Transfers between random accounts as transactions (two reads, two writes, commit) from "
        + "--concurrency threads; a reader sums all accounts in one snapshot every second and the bench fails if the "
        + "total ever changes. Prints transactions/s every second, then transactions/s, abort and retry rates, "
        + "commit latency (p50/p99), CPU cores used."},
    footer = {"", "Examples:", "  flotilla bench txn --embedded --accounts 1000 --duration 30s",
        "  flotilla bench txn --pd 10.0.0.1:2379 --json txn.json"})
public final class TxnBench implements Callable<Integer> {
  static final String DEFAULT_PD = "127.0.0.1:2379";
  static final long INITIAL = 1000;

  @Spec
  CommandSpec spec;

  @Option(names = "--pd", paramLabel = "ADDR", description = "PD members of a running cluster (default: " + DEFAULT_PD
      + ").")
  String pd;

  @Option(names = "--embedded", description = "Start PD and three stores in this JVM instead.")
  boolean embedded;

  @Option(names = "--accounts", paramLabel = "N", defaultValue = "1000",
      description = "Accounts (default: ${DEFAULT-VALUE}).")
  int accounts;

  @Option(names = "--regions", paramLabel = "N", defaultValue = "16",
      description = "Pre-split the accounts into N regions (default: ${DEFAULT-VALUE}).")
  int regions;

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "16",
      description = "Transfer threads (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--duration", paramLabel = "TIME", defaultValue = "30s", converter = DurationConverter.class,
      description = "Measured time (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--warmup", paramLabel = "TIME", defaultValue = "5s", converter = DurationConverter.class,
      description = "Load time before measuring, not counted (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the results to this JSON file.")
  Path json;

  static byte[] account(int i) {
    return String.format(Locale.ROOT, "acct%08d", i).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Integer call() {
    if (embedded && pd != null) {
      throw new ParameterException(spec.commandLine(), "--pd and --embedded exclude each other");
    }
    if (accounts < 2 || regions < 1 || regions > accounts || concurrency < 1 || duration.isZero() || warmup.isNegative()) {
      throw new ParameterException(spec.commandLine(), "need --accounts >= 2, 1 <= --regions <= --accounts, "
          + "--concurrency >= 1, --duration > 0 and --warmup >= 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    String where = embedded ? "embedded, 3 stores, fsync on" : "PD " + (pd == null ? DEFAULT_PD : pd);
    out.printf(Locale.ROOT, "txn bench: bank of %,d accounts over %d regions, %d threads, %s, %s measured after %s"
        + " warmup%n", accounts, regions, concurrency, where, duration, warmup);
    Path dataDir = embedded ? BenchFiles.dataDir(null, "flotilla-bench-txn-", spec.commandLine()) : null;
    try (KvTarget target = embedded ? KvTarget.embedded(dataDir, 3, true, true)
        : KvTarget.remote(pdAddresses(pd == null ? DEFAULT_PD : pd), pd == null ? DEFAULT_PD : pd)) {
      target.awaitReady(Duration.ofSeconds(60));
      List<InetSocketAddress> pdAddrs = pdAddresses(target.pd());
      List<byte[]> boundaries = new ArrayList<>();
      for (int i = 1; i < regions; i++) {
        boundaries.add(account((int) ((long) i * accounts / regions)));
      }
      if (!boundaries.isEmpty()) {
        Presplit.runAt(pdAddrs, boundaries, out, Duration.ofMinutes(5));
      }
      try (TxnClient txns = TxnClient.connect(RouterConfig.defaults(pdAddrs), TxnClient.Settings.defaults())) {
        Map<String, Object> result = run(txns, out);
        result.put("pd", target.pd());
        result.put("mode", embedded ? "embedded" : "remote");
        if (json != null) {
          BenchFiles.writeJson(json, result);
          out.println("  results written to " + json);
        }
        if (!(Boolean) result.get("invariant_held")) {
          out.println("INVARIANT BROKEN: " + result.get("invariant_violation"));
          out.flush();
          return 1;
        }
        return 0;
      }
    } catch (KvException e) {
      throw new BenchException(e.getMessage(), e);
    } finally {
      if (dataDir != null) {
        BenchFiles.deleteRecursively(dataDir);
      }
    }
  }

  private Map<String, Object> run(TxnClient txns, PrintWriter out) throws KvException {
    long t0 = System.nanoTime();
    for (int from = 0; from < accounts; from += 500) {
      try (Txn t = txns.begin()) {
        for (int i = from; i < Math.min(accounts, from + 500); i++) {
          t.put(account(i), Long.toString(INITIAL).getBytes(StandardCharsets.UTF_8));
        }
        t.commit();
      }
    }
    out.printf(Locale.ROOT, "loaded %,d accounts (%.1f s)%n", accounts, (System.nanoTime() - t0) / 1e9);
    long total = INITIAL * accounts;
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean measuring = new AtomicBoolean();
    Recorder commitLatency = new Recorder(60_000_000L, 3);
    AtomicLong committed = new AtomicLong();
    AtomicLong conflicts = new AtomicLong();
    AtomicLong aborted = new AtomicLong();
    AtomicLong otherErrors = new AtomicLong();
    AtomicLong sums = new AtomicLong();
    AtomicReference<String> violation = new AtomicReference<>();
    AtomicReference<String> firstError = new AtomicReference<>();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency + 1);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      workers.add(pool.submit(() -> {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        while (!stop.get()) {
          int a = rnd.nextInt(accounts);
          int b = (a + 1 + rnd.nextInt(accounts - 1)) % accounts;
          long amount = 1 + rnd.nextInt(100);
          try (Txn t = txns.begin()) {
            long va = Long.parseLong(new String(t.get(account(a)), StandardCharsets.UTF_8));
            long vb = Long.parseLong(new String(t.get(account(b)), StandardCharsets.UTF_8));
            t.put(account(a), Long.toString(va - amount).getBytes(StandardCharsets.UTF_8));
            t.put(account(b), Long.toString(vb + amount).getBytes(StandardCharsets.UTF_8));
            long c0 = System.nanoTime();
            t.commit();
            if (measuring.get()) {
              commitLatency.recordValue(Math.max(1, (System.nanoTime() - c0) / 1000));
              committed.incrementAndGet();
            }
          } catch (WriteConflictException e) {
            count(measuring, conflicts);
          } catch (TxnAbortedException | KeyLockedException e) {
            count(measuring, aborted);
          } catch (KvException e) {
            count(measuring, otherErrors);
            firstError.compareAndSet(null, e.toString());
          }
        }
        return null;
      }));
    }
    Future<?> reader = pool.submit(() -> {
      while (!stop.get()) {
        try (Txn t = txns.begin()) {
          long sum = 0;
          int n = 0;
          for (KvEntry e : t.scan(account(0), account(accounts), 0)) {
            sum += Long.parseLong(e.valueUtf8());
            n++;
          }
          if (n != accounts || sum != total) {
            violation.compareAndSet(null, "snapshot " + t.startTs() + " holds " + n + " accounts summing to " + sum
                + ", expected " + accounts + " summing to " + total);
          }
          sums.incrementAndGet();
        } catch (KvException e) {
          firstError.compareAndSet(null, "reader: " + e);
        }
        sleepQuietly(1000);
      }
      return null;
    });
    sleepQuietly(warmup.toMillis());
    measuring.set(true);
    commitLatency.reset();
    long cpu0 = cpuNanos();
    long m0 = System.nanoTime();
    long end = m0 + duration.toNanos();
    long last = 0;
    while (System.nanoTime() < end && violation.get() == null) {
      sleepQuietly(1000);
      long c = committed.get();
      out.printf(Locale.ROOT, "%6.1fs  %,8d txn/s  conflicts %,d  aborts %,d  errors %,d%n",
          (System.nanoTime() - m0) / 1e9, c - last, conflicts.get(), aborted.get(), otherErrors.get());
      out.flush();
      last = c;
    }
    measuring.set(false);
    long measured = System.nanoTime() - m0;
    long cpu = cpuNanos() - cpu0;
    stop.set(true);
    for (Future<?> f : workers) {
      waitFor(f);
    }
    waitFor(reader);
    pool.shutdown();
    Histogram h = commitLatency.getIntervalHistogram();
    double secs = measured / 1e9;
    long attempts = committed.get() + conflicts.get() + aborted.get() + otherErrors.get();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("bench", "txn");
    r.put("accounts", accounts);
    r.put("regions", regions);
    r.put("concurrency", concurrency);
    r.put("duration_s", duration.toSeconds());
    r.put("ops_per_sec", committed.get() / secs);
    r.put("committed", committed.get());
    r.put("write_conflicts", conflicts.get());
    r.put("aborts", aborted.get());
    r.put("errors", otherErrors.get());
    r.put("abort_rate", attempts == 0 ? 0.0 : (double) (conflicts.get() + aborted.get()) / attempts);
    r.put("commit_p50_ms", h.getValueAtPercentile(50) / 1000.0);
    r.put("commit_p99_ms", h.getValueAtPercentile(99) / 1000.0);
    r.put("one_phase_share", 0.0);
    r.put("snapshot_sums", sums.get());
    r.put("cpu_cores", cpu / (double) measured);
    r.put("invariant_held", violation.get() == null);
    r.put("invariant_violation", violation.get() == null ? "" : violation.get());
    out.printf(Locale.ROOT, "%ntxn bench: %,.0f transactions/s committed (%,d in %.1f s), abort rate %.2f%% (%,d write"
        + " conflicts, %,d aborted), %,d other errors%n", committed.get() / secs, committed.get(), secs,
        100 * (double) r.get("abort_rate"), conflicts.get(), aborted.get(), otherErrors.get());
    out.printf(Locale.ROOT, "  commit latency p50 %.2f ms  p99 %.2f ms; one-phase commits 0%% (not built yet)%n",
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0);
    out.printf(Locale.ROOT, "  invariant: %s over %,d snapshot sums; CPU %.2f cores%n",
        violation.get() == null ? "the total never changed" : "BROKEN", sums.get(), cpu / (double) measured);
    if (firstError.get() != null) {
      out.println("  first error: " + firstError.get());
    }
    return r;
  }

  private static void count(AtomicBoolean measuring, AtomicLong counter) {
    if (measuring.get()) {
      counter.incrementAndGet();
    }
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static void waitFor(Future<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new BenchException("a bench thread did not finish: " + e, e);
    }
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms); // NB: the bench's pacing (warmup, progress lines), not a wait for a condition
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private List<InetSocketAddress> pdAddresses(String addresses) {
    return PdAddresses.parse(addresses, spec.commandLine());
  }

}
