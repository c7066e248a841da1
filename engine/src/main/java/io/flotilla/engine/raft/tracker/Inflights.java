package io.flotilla.engine.raft.tracker;

/**
 * The last indexes of the append messages sent to one follower and not yet acknowledged, oldest
 * first, in a ring buffer of fixed capacity. It bounds how far a leader in
 * {@link ProgressState#REPLICATE} runs ahead of a follower.
 *
 * <p>Invariant: {@code 0 <= count <= capacity}; callers add indexes in increasing order (each
 * append's last index is larger than the previous one's), so the buffer is sorted from
 * {@code start} and {@link #freeLE} frees a prefix.
 *
 * <p>NB: the buffer grows on demand up to {@code capacity} (as etcd's does): every replica tracks
 * every peer, and a fixed 256-slot buffer per peer was 2 KiB each, 1.8 GiB for 300,000 mostly idle
 * replicas of 3 peers. Most followers never send an append; most leaders keep a few in flight.
 *
 * <p>Not thread-safe: owned by the group's single thread.
 */
public final class Inflights {
  private static final long[] EMPTY = new long[0];
  private static final int FIRST_SIZE = 4;

  private final int capacity;
  private long[] buffer;
  /** Slot of the oldest in-flight index. */
  private int start;
  private int count;

  public Inflights(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity: must be > 0, got " + capacity);
    }
    this.capacity = capacity;
    this.buffer = EMPTY;
  }

  private Inflights(Inflights other) {
    this.capacity = other.capacity;
    this.buffer = other.buffer.clone();
    this.start = other.start;
    this.count = other.count;
  }

  /**
   * Records an append whose last entry is {@code lastIndex}. Check {@link #full()} first; throws
   * {@link IllegalStateException} when the window is full.
   */
  public void add(long lastIndex) {
    if (full()) {
      throw new IllegalStateException(
          "cannot add index " + lastIndex + " to full inflights of capacity " + capacity);
    }
    if (count == buffer.length) {
      grow();
    }
    int slot = start + count;
    if (slot >= buffer.length) {
      slot -= buffer.length;
    }
    buffer[slot] = lastIndex;
    count++;
  }

  /** Frees every in-flight append whose last index is {@code <= index} (they were acknowledged). */
  public void freeLE(long index) {
    int freed = 0;
    int slot = start;
    while (freed < count && buffer[slot] <= index) {
      freed++;
      slot = slot + 1 == buffer.length ? 0 : slot + 1;
    }
    count -= freed;
    start = count == 0 ? 0 : slot;
  }

  /**
   * Frees the oldest in-flight append. A leader does this on a heartbeat response while the window
   * is full, so one more append goes out: if earlier ones were lost, the follower's rejection of it
   * sends the leader back to probing (otherwise a full window of lost messages stalls forever).
   */
  public void freeFirstOne() {
    if (count > 0) {
      freeLE(buffer[start]);
    }
  }

  /** Doubles the buffer (up to the capacity), the oldest index moving to slot 0. */
  private void grow() {
    long[] bigger = new long[Math.min(capacity, Math.max(FIRST_SIZE, buffer.length * 2))];
    for (int i = 0; i < count; i++) {
      bigger[i] = buffer[(start + i) % buffer.length];
    }
    buffer = bigger;
    start = 0;
  }

  public boolean full() {
    return count == capacity;
  }

  public int count() {
    return count;
  }

  public int capacity() {
    return capacity;
  }

  /** Forgets every in-flight append. */
  public void reset() {
    start = 0;
    count = 0;
  }

  /** An independent copy. */
  public Inflights copy() {
    return new Inflights(this);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Inflights[");
    for (int i = 0; i < count; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(buffer[(start + i) % buffer.length]);
    }
    return sb.append("]/").append(capacity).toString();
  }
}
