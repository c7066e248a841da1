package io.flotilla.bench.raft;

import io.flotilla.bench.BenchException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node process ({@link RaftBenchNode}) per node, started with this JVM's java and class path.
 * Each runs the load for the groups its node leads; this side only sequences the steps and adds up
 * what they report. Their logs go to this process's stderr.
 *
 * <p>Threads: the owner calls the phases; one reader thread per process parses its answers,
 * handing intervals straight to the current sink and everything else to the owner.
 */
final class ProcessCluster implements BenchCluster {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessCluster.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private record Answer(long node, String type, List<String> fields) {}

  private final RaftBenchSettings settings;
  private final Map<Long, Process> processes = new TreeMap<>();
  private final Map<Long, PrintWriter> commands = new TreeMap<>();
  private final BlockingQueue<Answer> answers = new LinkedBlockingQueue<>();
  private final Thread killOnExit = new Thread(this::destroyAll, "bench-kill-nodes");
  private final Map<Long, String> addresses = new TreeMap<>();
  private volatile Interval.Sink sink = iv -> { };

  ProcessCluster(RaftBenchSettings settings, Path dataDir, List<String> javaOptions) {
    this.settings = settings;
    Runtime.getRuntime().addShutdownHook(killOnExit);
    RaftBenchSettings forNodes = new RaftBenchSettings(settings.nodes(), true, settings.groups(),
        settings.payloadBytes(), settings.concurrency(), settings.duration(), settings.warmup(), settings.fsync(),
        settings.idle(), dataDir);
    try {
      for (long id : settings.nodeIds()) {
        launch(id, forNodes, javaOptions);
      }
      for (Answer a : await("PORT", START_TIMEOUT).values()) {
        addresses.put(a.node(), "127.0.0.1:" + a.fields().get(0));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void launch(long id, RaftBenchSettings forNodes, List<String> javaOptions) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(javaOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(RaftBenchNode.class.getName());
    cmd.add(Long.toString(id));
    cmd.addAll(forNodes.toArgs());
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new BenchException("cannot start node process " + id + " (" + cmd.get(0) + "): " + e.getMessage(), e);
    }
    LOG.info("started node {} as process {}", id, p.pid());
    processes.put(id, p);
    commands.put(id, new PrintWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8), true));
    Thread reader = new Thread(() -> read(id, p), "bench-node-" + id + "-reader");
    reader.setDaemon(true);
    reader.start();
  }

  private void read(long id, Process p) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.startsWith(RaftBenchNode.PREFIX)) {
          System.err.println("[node " + id + "] " + line);
          continue;
        }
        List<String> words = Arrays.asList(line.substring(RaftBenchNode.PREFIX.length()).split(" "));
        if (words.get(0).equals("TICK")) {
          sink.accept(Interval.decode(words.subList(1, words.size())));
        } else {
          answers.add(new Answer(id, words.get(0), words.subList(1, words.size())));
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("reading from node process {} failed: {}", id, e.toString());
    }
    int code;
    try {
      code = p.waitFor();
    } catch (InterruptedException e) {
      code = -1;
    }
    answers.add(new Answer(id, "EXIT", List.of(Integer.toString(code))));
  }

  /** Waits for one answer of {@code type} from every process; fails if one fails or exits. */
  private Map<Long, Answer> await(String type, Duration timeout) {
    Map<Long, Answer> got = new TreeMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (got.size() < processes.size()) {
      Answer a;
      try {
        a = answers.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BenchException("interrupted");
      }
      if (a == null) {
        throw new BenchException("node process(es) " + missing(got) + " did not answer " + type + " within "
            + timeout.toSeconds() + " s; see their log above");
      }
      switch (a.type()) {
        case "FAILED" -> throw new BenchException("node " + a.node() + " failed: " + String.join(" ", a.fields()));
        case "EXIT" -> throw new BenchException("node process " + a.node() + " exited with code " + a.fields().get(0)
            + " while the bench waited for " + type + "; see its log above");
        default -> {
          if (!a.type().equals(type)) {
            throw new BenchException("node " + a.node() + " answered " + a.type() + " while the bench waited for "
                + type);
          }
          got.put(a.node(), a);
        }
      }
    }
    return got;
  }

  private List<Long> missing(Map<Long, Answer> got) {
    return processes.keySet().stream().filter(id -> !got.containsKey(id)).collect(Collectors.toList());
  }

  private void sendAll(String command) {
    for (PrintWriter w : commands.values()) {
      w.println(command);
    }
  }

  @Override
  public int jvms() {
    return processes.size();
  }

  @Override
  public void startGroups() {
    sendAll("PEERS " + addresses.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(" ")));
    await("CONNECTED", START_TIMEOUT);
    long led = 0;
    for (long first = 1; first <= settings.groups(); first += WAVE) {
      long last = Math.min(settings.groups(), first + WAVE - 1);
      sendAll("START " + first + " " + last);
      await("STARTED", WAVE_TIMEOUT);
      sendAll("CAMPAIGN " + first + " " + last);
      for (Answer a : await("LEADERS", WAVE_TIMEOUT.plusSeconds(30)).values()) {
        led += Long.parseLong(a.fields().get(0));
      }
    }
    if (led != settings.groups()) {
      LOG.warn("the nodes lead {} groups in all, expected {}: leadership is still moving", led, settings.groups());
    }
  }

  @Override
  public List<Workload.Result> throughput(Interval.Sink sink) {
    return run("RUN", sink);
  }

  @Override
  public List<Workload.Result> idle(Interval.Sink sink) {
    return run("IDLE", sink);
  }

  private List<Workload.Result> run(String command, Interval.Sink sink) {
    this.sink = sink;
    sendAll(command);
    Duration timeout = settings.warmup().plus(settings.duration()).plusSeconds(60);
    List<Workload.Result> results = new ArrayList<>();
    for (Answer a : await("RESULT", timeout).values()) {
      results.add(Workload.Result.decode(a.fields()));
    }
    this.sink = iv -> { };
    return results;
  }

  @Override
  public long awaitHibernation(Duration timeout) {
    sendAll("SETTLE " + timeout.toMillis());
    long hibernated = 0;
    for (Answer a : await("SETTLED", timeout.plusSeconds(30)).values()) {
      hibernated += Long.parseLong(a.fields().get(0));
    }
    return hibernated;
  }

  @Override
  public long replicas() {
    return (long) settings.groups() * settings.nodes();
  }

  @Override
  public List<WakeAll.Result> wakeAll() {
    sendAll("WAKE");
    List<WakeAll.Result> results = new ArrayList<>();
    for (Answer a : await("WOKEN", BenchCluster.wakeTimeout(settings.groups()).plusSeconds(30)).values()) {
      results.add(WakeAll.Result.decode(a.fields()));
    }
    return results;
  }

  @Override
  public void close() {
    sendAll("STOP");
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    for (Map.Entry<Long, Process> e : processes.entrySet()) {
      try {
        if (!e.getValue().waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          LOG.warn("node process {} did not stop within {} s; killing it", e.getKey(), STOP_TIMEOUT.toSeconds());
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
    destroyAll();
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or has run; nothing to remove.
    }
  }

  private void destroyAll() {
    for (Process p : processes.values()) {
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }
}
