package io.flotilla.region.driver;

import java.util.concurrent.atomic.LongAdder;

/** Counters of a driver, for the benchmark and, later, metrics. Thread-safe. */
public final class DriverCounters {
  final LongAdder rounds = new LongAdder();
  final LongAdder readies = new LongAdder();
  final LongAdder applied = new LongAdder();
  final LongAdder hibernations = new LongAdder();
  final LongAdder wakes = new LongAdder();
  final LongAdder snapshotsSent = new LongAdder();
  final LongAdder snapshotsApplied = new LongAdder();
  final LongAdder droppedInbound = new LongAdder();

  public long rounds() {
    return rounds.sum();
  }

  public long readies() {
    return readies.sum();
  }

  public long applied() {
    return applied.sum();
  }

  public long hibernations() {
    return hibernations.sum();
  }

  public long wakes() {
    return wakes.sum();
  }

  public long snapshotsSent() {
    return snapshotsSent.sum();
  }

  public long snapshotsApplied() {
    return snapshotsApplied.sum();
  }

  /** Messages for groups this node does not host. */
  public long droppedInbound() {
    return droppedInbound.sum();
  }

  @Override
  public String toString() {
    return "rounds=" + rounds() + " readies=" + readies() + " applied=" + applied() + " hibernations="
        + hibernations() + " wakes=" + wakes() + " snapshotsSent=" + snapshotsSent() + " snapshotsApplied="
        + snapshotsApplied();
  }
}
