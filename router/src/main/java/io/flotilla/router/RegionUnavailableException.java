package io.flotilla.router;

/**
 * Nothing worked until the deadline: no leader, no store reachable, or PD knew no region for the
 * key; the cause is the last failure seen. Nothing was written. A {@link DeadlineExceededException},
 * so code that only cares about the deadline catches both.
 */
public final class RegionUnavailableException extends DeadlineExceededException {
  private static final long serialVersionUID = 1L;

  public RegionUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
