package io.flotilla.router;

/**
 * A write was sent and its outcome is not known: no answer came within the deadline, the
 * connection was lost after the request was written, or the store said it cannot tell (a proposal
 * dropped after it may have been replicated). The write may have been applied, may still be
 * applied, or may never be. Never a plain failure: read the key back, or retry a write whose
 * repetition is harmless.
 *
 * <p>Also raised by a multi-region write (batchPut, deleteRange) that failed after some of its
 * regions were written.
 */
public final class OutcomeUnknownException extends KvException {
  private static final long serialVersionUID = 1L;

  public OutcomeUnknownException(String message, Throwable cause) {
    super(message, cause);
  }
}
