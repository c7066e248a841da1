package io.flotilla.router;

/**
 * The seqs of one client's writes still waiting for their final answer, and the smallest of them
 * (what stores keep answers from). Seqs are handed out in increasing order and mostly finish in
 * about that order, so a ring of "done" flags from the lowest pending seq up replaces a sorted set:
 * no allocation per write, O(1) amortised for each operation.
 *
 * <p>Threads: any; one short lock per call.
 */
final class PendingSeqs {
  /** The next seq to hand out; seqs start at 1 (0 means "no de-duplication" to a store). */
  private long next = 1;
  /** The smallest seq handed out and not done; {@code == next} when none is pending. */
  private long low = 1;
  /** done[s % length] for s in [low, next). */
  private boolean[] done = new boolean[1024];

  /** A new seq, pending until {@link #done}. */
  synchronized long next() {
    if (next - low == done.length) {
      grow();
    }
    done[index(next)] = false;
    return next++;
  }

  /** The write sent under {@code s} got its final answer, or was renumbered; 0 and repeats are ignored. */
  synchronized void done(long s) {
    if (s < low || s >= next) {
      return;
    }
    done[index(s)] = true;
    while (low < next && done[index(low)]) {
      low++;
    }
  }

  /** The smallest pending seq, at most {@code own}. */
  synchronized long min(long own) {
    return low < next ? Math.min(low, own) : own;
  }

  /** How many seqs are pending (handed out, not done). */
  synchronized int pending() {
    int n = 0;
    for (long s = low; s < next; s++) {
      if (!done[index(s)]) {
        n++;
      }
    }
    return n;
  }

  private int index(long s) {
    return (int) (s % done.length);
  }

  private void grow() {
    boolean[] bigger = new boolean[done.length * 2];
    for (long s = low; s < next; s++) {
      bigger[(int) (s % bigger.length)] = done[index(s)];
    }
    done = bigger;
  }
}
