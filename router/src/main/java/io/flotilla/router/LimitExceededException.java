package io.flotilla.router;

/**
 * A key, value or batch is over a limit; nothing was sent, or the store refused it and wrote
 * nothing. {@link #limit()} names the setting, e.g. {@code max-key-bytes}.
 */
public final class LimitExceededException extends KvException {
  private static final long serialVersionUID = 1L;

  private final String limit;
  private final long max;
  private final long actual;

  public LimitExceededException(String limit, long max, long actual, String what) {
    super(limit + " exceeded: " + what + " is " + actual + " bytes, the limit is " + max);
    this.limit = limit;
    this.max = max;
    this.actual = actual;
  }

  /** Over a limit whose numbers are not known here (the transport's frame size). */
  public LimitExceededException(String limit, String detail) {
    super(limit + " exceeded: " + detail);
    this.limit = limit;
    this.max = -1;
    this.actual = -1;
  }

  /** The setting, e.g. {@code max-key-bytes}, {@code max-value-bytes}, {@code max-batch-bytes}. */
  public String limit() {
    return limit;
  }

  /** The limit, or -1 when not known. */
  public long max() {
    return max;
  }

  /** The size refused, or -1 when not known. */
  public long actual() {
    return actual;
  }
}
