package io.flotilla.bench.raft;

import io.flotilla.engine.raft.Entry;
import io.flotilla.region.driver.StateMachine;
import io.flotilla.region.storage.StorageBatch;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The benchmark's state machine: it goes through the driver's whole apply path but keeps nothing,
 * it only counts the entries it is given. Shared by all groups of a node.
 */
final class CountingStateMachine implements StateMachine<Void> {
  private final LongAdder applied = new LongAdder();

  @Override
  public List<Void> apply(long groupId, List<Entry> entries, StorageBatch batch) {
    applied.add(entries.size());
    return Collections.nCopies(entries.size(), null);
  }

  @Override
  public byte[] snapshot(long groupId) {
    return new byte[0];
  }

  @Override
  public void restore(long groupId, byte[] data, StorageBatch batch) {
    // Nothing is kept, so there is nothing to restore.
  }

  /** Entries applied on this node so far, all groups (no-ops of new leaders included). */
  long applied() {
    return applied.sum();
  }
}
