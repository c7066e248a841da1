package io.flotilla.router;

/**
 * The call's deadline passed before it got an answer, and nothing was written: a read, or a write
 * that was never sent (a write that was sent is {@link OutcomeUnknownException} instead).
 */
public class DeadlineExceededException extends KvException {
  private static final long serialVersionUID = 1L;

  public DeadlineExceededException(String message, Throwable cause) {
    super(message, cause);
  }
}
