package io.flotilla.pd.schedule;

import io.flotilla.pd.operator.Operator;
import java.util.List;

/**
 * One scheduler or checker: looks at a {@link ScheduleContext} and proposes operators. It may be
 * enabled and disabled and its {@link #settings} changed at run time.
 *
 * <p>Threads: {@link #schedule} on the PD leader's scheduling thread; the rest from any thread.
 */
public interface Scheduler {
  String name();

  String description();

  boolean enabled();

  void setEnabled(boolean enabled);

  Settings settings();

  /** Operators to start; each was already {@link ScheduleContext#start started} when it is returned. */
  List<Operator> schedule(ScheduleContext ctx);
}
