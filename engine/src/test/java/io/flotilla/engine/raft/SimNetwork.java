package io.flotilla.engine.raft;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

/**
 * The simulation's network: each message is delivered after a random delay (so messages reorder),
 * may be dropped or duplicated, and is blocked by cuts (one-way or both ways) at delivery time.
 */
final class SimNetwork {
  private record InFlight(long deliverAt, long seq, Message m) {}

  private final Random rnd;
  private final PriorityQueue<InFlight> queue =
      new PriorityQueue<>((a, b) -> a.deliverAt != b.deliverAt
          ? Long.compare(a.deliverAt, b.deliverAt) : Long.compare(a.seq, b.seq));
  private final Set<Long> blocked = new HashSet<>();
  private long seq;
  double dropRate;
  double dupRate;
  int maxDelay = 2;
  /**
   * Snapshot deliveries as a real transport reports them back to the sender: a SNAPSHOT message
   * that is delivered yields a success, one dropped or blocked a failure.
   */
  final List<Message> snapshotReports = new ArrayList<>();

  SimNetwork(Random rnd) {
    this.rnd = rnd;
  }

  void send(long now, List<Message> msgs) {
    for (Message m : msgs) {
      if (rnd.nextDouble() < dropRate) {
        reportIfSnapshot(m, false);
        continue;
      }
      queue.add(new InFlight(now + rnd.nextInt(maxDelay + 1), seq++, m));
      if (rnd.nextDouble() < dupRate) {
        queue.add(new InFlight(now + rnd.nextInt(maxDelay + 2), seq++, m));
      }
    }
  }

  /** Removes and returns the messages due by {@code now} that are not blocked. */
  List<Message> due(long now) {
    List<Message> out = new ArrayList<>();
    while (!queue.isEmpty() && queue.peek().deliverAt <= now) {
      Message m = queue.poll().m;
      boolean delivered = !blocked.contains(key(m.from(), m.to()));
      if (delivered) {
        out.add(m);
      }
      reportIfSnapshot(m, delivered);
    }
    return out;
  }

  private void reportIfSnapshot(Message m, boolean delivered) {
    if (m.type() == MessageType.SNAPSHOT) {
      snapshotReports.add(Message.builder(MessageType.SNAP_STATUS).from(m.to()).to(m.from()).reject(!delivered).build());
    }
  }

  void block(long from, long to) {
    blocked.add(key(from, to));
  }

  void blockBoth(long a, long b) {
    block(a, b);
    block(b, a);
  }

  void heal() {
    blocked.clear();
    dropRate = 0;
    dupRate = 0;
  }

  boolean isBlocked(long from, long to) {
    return blocked.contains(key(from, to));
  }

  private static long key(long from, long to) {
    return from * 1_000_003L + to;
  }
}
