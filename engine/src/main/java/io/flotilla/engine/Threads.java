package io.flotilla.engine;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The thread factories of every module: all Flotilla threads are daemons (a forgotten close never
 * keeps a JVM alive) and carry a name a thread dump and a log line can be read by.
 *
 * <p>Stateless; any thread.
 */
public final class Threads {
  private Threads() {}

  /** Daemon threads all called {@code name} (for single-thread executors). */
  public static ThreadFactory named(String name) {
    return r -> daemon(r, name);
  }

  /** Daemon threads called {@code prefix-1}, {@code prefix-2}, ... */
  public static ThreadFactory numbered(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> daemon(r, prefix + "-" + n.incrementAndGet());
  }

  /** A daemon thread called {@code name} running {@code r}, not started. */
  public static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
