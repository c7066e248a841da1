package io.flotilla.bench.kv;

import io.flotilla.bench.BenchException;
import io.flotilla.pd.RegionSplits;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.RegionInfo;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench kv --regions N}: cuts the bench's key space into N regions at even key boundaries
 * before the load, through PD's split operators (as {@code flotilla ctl region split} does), then
 * waits for PD's balance-leader scheduler to spread their leaders over the stores, so the load
 * meets N Raft groups led from every store rather than one. Progress every second.
 *
 * <p>Threads: the bench's main thread.
 */
public final class Presplit {
  private static final Duration POLL = Duration.ofMillis(200);

  private Presplit() {}

  static void run(List<InetSocketAddress> pd, long keys, int regions, PrintWriter out, Duration timeout) {
    List<byte[]> boundaries = new ArrayList<>();
    for (int i = 1; i < regions; i++) {
      boundaries.add(KeySpace.key(i * keys / regions));
    }
    runAt(pd, boundaries, out, timeout);
  }

  /** Splits at {@code boundaries} (each starts a region), then waits for the leaders to spread. */
  public static void runAt(List<InetSocketAddress> pd, List<byte[]> boundaries, PrintWriter out, Duration timeout) {
    int regions = boundaries.size() + 1;
    long t0 = System.nanoTime();
    long deadline = t0 + timeout.toNanos();
    long nextProgress = t0;
    try (RemotePdClient client = new RemotePdClient(pd, Duration.ofSeconds(10))) {
      while (true) {
        List<RegionInfo> all;
        int missing;
        try {
          all = RegionSplits.regions(client);
          missing = RegionSplits.splitMissing(client, all, boundaries);
        } catch (IllegalStateException e) {
          throw new BenchException(e.getMessage());
        }
        Map<Long, Integer> leaders = leadersByStore(all);
        int spread = leaders.isEmpty() ? Integer.MAX_VALUE
            : leaders.values().stream().mapToInt(Integer::intValue).max().getAsInt()
                - leaders.values().stream().mapToInt(Integer::intValue).min().getAsInt();
        boolean split = missing == 0 && all.size() >= regions;
        if (split && spread <= Math.max(1, regions / 16) && leaders.values().stream().mapToInt(i -> i).sum() >= regions) {
          out.printf(Locale.ROOT, "pre-split into %d regions, leaders per store %s (%.1f s)%n", all.size(), leaders,
              (System.nanoTime() - t0) / 1e9);
          return;
        }
        long now = System.nanoTime();
        if (now - deadline > 0) {
          throw new BenchException(String.format(Locale.ROOT, "pre-split into %d regions did not settle within %d s: "
              + "%d regions, %d boundaries to split, leaders per store %s", regions, timeout.toSeconds(), all.size(),
              missing, leaders));
        }
        if (now - nextProgress >= 0) {
          out.printf(Locale.ROOT, "pre-splitting: %d of %d regions, leaders per store %s%n", all.size(), regions,
              leaders);
          out.flush();
          nextProgress = now + TimeUnit.SECONDS.toNanos(1);
        }
        KvTarget.sleepMillis(POLL.toMillis());
      }
    }
  }

  private static Map<Long, Integer> leadersByStore(List<RegionInfo> all) {
    Map<Long, Integer> out = new HashMap<>();
    for (RegionInfo r : all) {
      if (r.hasLeader()) {
        out.merge(r.getLeader().getStoreId(), 1, Integer::sum);
      }
    }
    return out;
  }
}
