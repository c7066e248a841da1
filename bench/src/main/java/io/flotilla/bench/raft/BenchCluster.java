package io.flotilla.bench.raft;

import java.time.Duration;
import java.util.List;

/**
 * The nodes of a run: all in this JVM ({@link EmbeddedCluster}) or one node process each
 * ({@link ProcessCluster}). Each phase returns one result per JVM; {@link Report} adds them up.
 */
interface BenchCluster extends AutoCloseable {

  /** JVMs that report intervals and results. */
  int jvms();

  /**
   * Starts every group on every node, in waves of {@link #WAVE} groups: start a wave, have its
   * designated nodes campaign, wait for its leaders, next wave. Thousands of groups started at once
   * would all tick and campaign together, and on a small machine their elections can outlast the
   * election timeout and never settle.
   */
  void startGroups();

  /** Groups started and elected together. */
  int WAVE = 1000;

  /** Runs the closed-loop load through the warmup and the duration. */
  List<Workload.Result> throughput(Interval.Sink sink);

  /**
   * Waits until every replica hibernates, or {@code timeout}.
   *
   * @return hibernating replicas, all nodes
   */
  long awaitHibernation(Duration timeout);

  /** Replicas in all: groups x nodes. */
  long replicas();

  /** Idles through the warmup and the duration, measuring CPU time. */
  List<Workload.Result> idle(Interval.Sink sink);

  /** Proposes once to every group, with up to the concurrency in flight, and waits for all of them. */
  List<WakeAll.Result> wakeAll();

  @Override
  void close();

  /** How long one wave of groups may take to elect its leaders. */
  Duration WAVE_TIMEOUT = Duration.ofSeconds(60);

  /** How long the wake-up of all groups may take before its proposals count as failed. */
  static Duration wakeTimeout(int groups) {
    return Duration.ofSeconds(Math.max(60, groups / 100));
  }
}
