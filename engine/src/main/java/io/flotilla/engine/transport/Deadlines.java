package io.flotilla.engine.transport;

import io.flotilla.engine.Threads;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import java.util.concurrent.TimeUnit;

/**
 * The one timer wheel of this JVM for per-request deadlines (RPCs here, router calls above). A
 * deadline is set and cancelled for every request and almost never fires; a wheel does both in
 * O(1) where an event loop's or a {@code ScheduledThreadPoolExecutor}'s heap pays O(log n) and a
 * lock (together 4-5% of a KV write's CPU in a profile). Resolution {@link #TICK_MS} ms: deadlines
 * fire up to that late, never early. NB: the wheel's thread wakes every tick, idle or not; at 10 ms
 * that alone cost 0.7% of a core in an idle playground.
 *
 * <p>Threads: any; tasks run on the wheel's thread and must only hand work off (never block).
 */
public final class Deadlines {
  public static final long TICK_MS = 100;

  private static final Timer WHEEL = new HashedWheelTimer(Threads.named("flotilla-deadlines"), TICK_MS, TimeUnit.MILLISECONDS, 512);

  private Deadlines() {}

  /** Runs {@code task} on the wheel's thread after {@code delay}; cancel the returned timeout to drop it. */
  public static Timeout after(long delay, TimeUnit unit, Runnable task) {
    return WHEEL.newTimeout(t -> task.run(), delay, unit);
  }
}
