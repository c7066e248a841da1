package io.flotilla.engine.transport;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A lock-free, many-producer queue holding at most {@code capacity} elements; {@link #offer} never
 * blocks and refuses when full.
 *
 * <p>Threads: {@link #offer} from any thread; {@link #drainTo} and {@link #clear} from one consumer
 * at a time (the owning event loop).
 */
final class BoundedQueue<T> {

  private final ConcurrentLinkedQueue<T> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final int capacity;

  BoundedQueue(int capacity) {
    this.capacity = capacity;
  }

  /** Adds {@code item} unless the queue is full; returns whether it was added. */
  boolean offer(T item) {
    if (size.incrementAndGet() > capacity) {
      size.decrementAndGet();
      return false;
    }
    queue.offer(item);
    return true;
  }

  boolean isEmpty() {
    return size.get() == 0;
  }

  int size() {
    return size.get();
  }

  /** Moves every element present into {@code out}, oldest first; returns how many. */
  int drainTo(List<T> out) {
    int n = 0;
    T item;
    while ((item = queue.poll()) != null) {
      out.add(item);
      n++;
    }
    size.addAndGet(-n);
    return n;
  }

  /** Discards every element present; returns how many. */
  int clear() {
    int n = 0;
    while (queue.poll() != null) {
      n++;
    }
    size.addAndGet(-n);
    return n;
  }
}
