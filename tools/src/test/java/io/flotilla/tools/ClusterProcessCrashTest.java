package io.flotilla.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.router.KvClient;
import io.flotilla.router.KvEntry;
import io.flotilla.router.KvException;
import io.flotilla.router.OutcomeUnknownException;
import io.flotilla.router.RouterConfig;
import io.flotilla.engine.client.HostPort;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.io.TempDir;

/**
 * PD and three stores as separate processes started with the real {@code flotilla pd} and {@code
 * flotilla store} commands and config files. The store leading the region being written is killed
 * with SIGKILL during writes: the client carries on after retries, the store restarts on its data
 * directory, and every acknowledged write is there exactly once.
 */
class ClusterProcessCrashTest {
  @TempDir
  Path dir;

  private final List<Process> processes = new ArrayList<>();

  /** On a failure, prints the end of each process's log first: they live in {@link #dir}, which goes away. */
  @RegisterExtension
  final TestExecutionExceptionHandler printLogsOnFailure = (context, failure) -> {
    printLogTails(80);
    throw failure;
  };

  private void printLogTails(int lines) {
    try (var logs = Files.list(dir)) {
      for (Path f : (Iterable<Path>) logs.filter(f -> f.toString().endsWith(".log")).sorted()::iterator) {
        List<String> all = Files.readAllLines(f, StandardCharsets.UTF_8);
        System.err.printf("---- %s: last %d of %d lines ----%n", f.getFileName(), Math.min(lines, all.size()),
            all.size());
        all.subList(Math.max(0, all.size() - lines), all.size()).forEach(System.err::println);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("could not print the process logs: " + e);
    }
  }

  @AfterEach
  void killAll() {
    for (Process p : processes) {
      p.destroyForcibly();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts {@code flotilla <command> --config file} in a new JVM; returns once it printed {@code readyPrefix}. */
  private Process launch(String command, Path config, String readyPrefix, BlockingQueue<String> firstLine)
      throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        Flotilla.class.getName(), command, "--config", config.toString());
    pb.redirectError(dir.resolve(config.getFileName() + ".log").toFile());
    Process p = pb.start();
    processes.add(p);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.startsWith(readyPrefix)) {
            firstLine.add(line);
          }
        }
      } catch (IOException e) {
        // the process died: the test notices by its own checks
      }
    });
    reader.setDaemon(true);
    reader.start();
    return p;
  }

  private Path write(String name, String... lines) throws IOException {
    Path f = dir.resolve(name);
    Files.write(f, List.of(lines), StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void killingTheLeadersStoreLosesNoAcknowledgedWrite() throws Exception {
    int pdPort = freePort();
    String pd = "127.0.0.1:" + pdPort;
    BlockingQueue<String> ready = new LinkedBlockingQueue<>();
    launch("pd", write("pd.conf", "data-dir = " + dir.resolve("pd"), "listen = " + pd), "PD: ", ready);
    assertThat(ready.poll(60, TimeUnit.SECONDS)).isEqualTo("PD: " + pd);

    Map<Long, Process> storeProcesses = new HashMap<>();
    Map<Long, Path> storeConfigs = new HashMap<>();
    List<Path> configs = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      configs.add(write("store-" + i + ".conf", "data-dir = " + dir.resolve("store-" + i),
          "listen = 127.0.0.1:" + freePort(), "pd = " + pd, "region-heartbeat-interval = 500ms"));
    }
    for (Path c : configs) {
      Process p = launch("store", c, "Store ", ready);
      String line = ready.poll(60, TimeUnit.SECONDS);
      assertThat(line).as("store started with %s", c).isNotNull();
      long id = Long.parseLong(line.substring("Store ".length(), line.indexOf(':')));
      storeProcesses.put(id, p);
      storeConfigs.put(id, c);
    }

    RouterConfig d = RouterConfig.defaults(List.of(HostPort.parse(pd, false)));
    Set<String> acked = java.util.concurrent.ConcurrentHashMap.newKeySet();
    Set<String> unknown = java.util.concurrent.ConcurrentHashMap.newKeySet();
    Set<String> failed = java.util.concurrent.ConcurrentHashMap.newKeySet();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger ackedAfterKill = new AtomicInteger();
    AtomicBoolean killed = new AtomicBoolean();
    try (KvClient kv = KvClient.connect(new RouterConfig(d.pdAddresses(), Duration.ofSeconds(20),
        Duration.ofSeconds(2), d.backoffMin(), d.backoffMax(), d.scanPageSize(), d.maxKeyBytes(),
        d.maxValueBytes(), d.maxBatchBytes(), 2));
         PdClient pdClient = new RemotePdClient(List.of(pd))) {
      kv.put("probe", "1");
      Thread writer = new Thread(() -> {
        for (int i = 0; !stop.get(); i++) {
          String k = String.format("k-%06d", i);
          try {
            kv.put(k, "v" + i);
            acked.add(k);
            if (killed.get()) {
              ackedAfterKill.incrementAndGet();
            }
          } catch (OutcomeUnknownException e) {
            unknown.add(k);
          } catch (KvException e) {
            failed.add(k);
          }
        }
      });
      writer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= 300);

      RegionInfo region = await().atMost(Duration.ofSeconds(30)).until(
          () -> pdClient.getRegion("k-".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).orElseThrow(),
          r -> r.getLeader().getStoreId() != 0);
      long leaderStore = region.getLeader().getStoreId();
      storeProcesses.get(leaderStore).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      killed.set(true);
      int ackedAtKill = acked.size();

      await().atMost(Duration.ofSeconds(60)).until(() -> ackedAfterKill.get() >= 200);
      // The killed store comes back on its data directory.
      launch("store", storeConfigs.get(leaderStore), "Store ", ready);
      assertThat(ready.poll(60, TimeUnit.SECONDS)).startsWith("Store " + leaderStore + ":");
      await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= ackedAtKill + 400);
      stop.set(true);
      writer.join(30_000);

      Set<String> seen = new HashSet<>();
      for (KvEntry e : kv.scan("k-".getBytes(StandardCharsets.UTF_8), "k.".getBytes(StandardCharsets.UTF_8), 0)) {
        assertThat(seen.add(e.keyUtf8())).as("key %s once", e.keyUtf8()).isTrue();
      }
      assertThat(seen).containsAll(acked);
      Set<String> extra = new HashSet<>(seen);
      extra.removeAll(acked);
      assertThat(unknown).containsAll(extra);
      assertThat(failed).as("writes that failed (not unknown) are not there").noneMatch(seen::contains);
      System.out.printf("store %d (leader) killed after %d acknowledged writes; %d acknowledged after the kill, "
          + "%d unknown outcomes, %d failed, all %d acknowledged keys present once%n", leaderStore, ackedAtKill,
          ackedAfterKill.get(), unknown.size(), failed.size(), acked.size());
    }
  }

  @Test
  void aDeadStoresRegionsRegainThreeReplicasElsewhere() throws Exception {
    int pdPort = freePort();
    String pd = "127.0.0.1:" + pdPort;
    BlockingQueue<String> ready = new LinkedBlockingQueue<>();
    launch("pd", write("pd.conf", "data-dir = " + dir.resolve("pd"), "listen = " + pd,
        "max-store-down-time = 3s"), "PD: ", ready);
    assertThat(ready.poll(60, TimeUnit.SECONDS)).isEqualTo("PD: " + pd);
    Map<Long, Process> storeProcesses = new HashMap<>();
    for (int i = 1; i <= 4; i++) {
      Path c = write("store-" + i + ".conf", "data-dir = " + dir.resolve("store-" + i),
          "listen = 127.0.0.1:" + freePort(), "pd = " + pd, "split-keys = 300", "split-check-interval = 200ms",
          "region-heartbeat-interval = 300ms", "store-heartbeat-interval = 300ms");
      Process p = launch("store", c, "Store ", ready);
      String line = ready.poll(60, TimeUnit.SECONDS);
      assertThat(line).as("store started with %s", c).isNotNull();
      storeProcesses.put(Long.parseLong(line.substring("Store ".length(), line.indexOf(':'))), p);
    }
    RouterConfig d = RouterConfig.defaults(List.of(HostPort.parse(pd, false)));
    try (KvClient kv = KvClient.connect(d); RemotePdClient pdClient = new RemotePdClient(List.of(pd))) {
      for (int b = 0; b < 20; b++) {
        Map<String, String> batch = new java.util.TreeMap<>();
        for (int j = 0; j < 100; j++) {
          batch.put(String.format("k-%06d", b * 100 + j), "v");
        }
        kv.batchPutStrings(batch);
      }
      // Wait until every region has 3 voters, then kill the store holding the most replicas.
      List<RegionInfo> before = await().atMost(Duration.ofSeconds(60)).until(
          () -> pdClient.scanRegions(new byte[0], new byte[0], 0).get(10, TimeUnit.SECONDS),
          rs -> rs.size() >= 4 && rs.stream().allMatch(r -> r.getRegion().getPeersCount() == 3));
      Map<Long, Integer> replicas = new HashMap<>();
      before.forEach(r -> r.getRegion().getPeersList().forEach(p -> replicas.merge(p.getStoreId(), 1, Integer::sum)));
      long victim = replicas.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
      long t0 = System.nanoTime();
      storeProcesses.get(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);

      List<RegionInfo> after = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(
          () -> pdClient.scanRegions(new byte[0], new byte[0], 0).get(10, TimeUnit.SECONDS),
          rs -> rs.stream().allMatch(r -> r.getRegion().getPeersCount() == 3
              && r.getRegion().getPeersList().stream().noneMatch(p -> p.getStoreId() == victim)));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      for (int i = 0; i < 2000; i += 97) {
        assertThat(kv.get(String.format("k-%06d", i))).isEqualTo("v");
      }
      System.out.printf("store %d (%d replicas) killed; %d regions had 3 replicas on the other stores %d ms later "
          + "(down after 3 s)%n", victim, replicas.get(victim), after.size(), ms);
    }
  }
}
