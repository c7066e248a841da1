package io.flotilla.region.driver;

import io.flotilla.engine.raft.Ready;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One poller thread. A round takes up to {@code maxGroupsPerRound} groups with work and:
 *
 * <ol>
 *   <li>drains their mailboxes and ticks them;
 *   <li>collects their Readies and sends the messages that need no persistence (leaders' appends
 *       go out while the fsync runs, Raft thesis §10.2.1);
 *   <li>puts all Readies, and the state machine effects of their committed entries, in ONE
 *       {@link StorageBatch}, written with ONE fsync (group commit);
 *   <li>sends the messages that promised durability, completes clients, advances every group;
 *   <li>flushes the transport: one frame per destination node for the messages sent before the
 *       fsync, one for those after it.
 * </ol>
 */
final class Poller implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Poller.class);

  private final RaftDriver driver;
  private final List<RaftGroup> batch = new ArrayList<>();
  private final List<RaftGroup> readyGroups = new ArrayList<>();
  private final List<Ready> readies = new ArrayList<>();

  Poller(RaftDriver driver) {
    this.driver = driver;
  }

  @Override
  public void run() {
    while (driver.running()) {
      try {
        batch.clear();
        if (!driver.takeBatch(batch)) {
          continue;
        }
        round();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        driver.fail(e);
        return;
      }
    }
  }

  private void round() {
    long tick = driver.currentTick();
    for (RaftGroup g : batch) {
      if (!g.destroyed) {
        stepSafely(g, tick);
      }
    }
    readyGroups.clear();
    readies.clear();
    for (RaftGroup g : batch) {
      if (g.destroyed) {
        continue;
      }
      Ready rd = g.takeReady();
      if (rd != null) {
        readyGroups.add(g);
        readies.add(rd);
        g.send(rd.messages());
      }
    }
    if (!readies.isEmpty()) {
      // Leaders' appends leave now, so followers persist them while our own fsync runs.
      driver.bus().flush();
      try (StorageBatch wb = driver.storage().newBatch()) {
        for (int i = 0; i < readies.size(); i++) {
          readyGroups.get(i).persist(readies.get(i), wb);
        }
        driver.storage().write(wb);
      }
      for (int i = 0; i < readies.size(); i++) {
        readyGroups.get(i).afterWrite(readies.get(i));
      }
      driver.counters().readies.add(readies.size());
    }
    driver.bus().flush();
    driver.counters().rounds.increment();
    for (RaftGroup g : batch) {
      // NB: read what the group still needs before releasing it; after release another poller
      // may own it.
      boolean more = !g.destroyed && g.raw.hasReady();
      g.publishInfo();
      g.scheduled.set(false);
      if (more || !g.mailbox.isEmpty()) {
        driver.schedule(g);
      }
    }
  }

  private void stepSafely(RaftGroup g, long tick) {
    try {
      g.handleEvents(tick);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // A broken invariant in one group must not take the node down silently: say which.
      LOG.error("{} failed while stepping; the node stops: {}", g, e.toString(), e);
      throw e;
    }
  }
}
