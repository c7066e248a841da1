package io.flotilla.tools.ctl;

/** A ctl command failed in a way a person can act on: the message says what and what to do; exit code 1. */
final class CtlException extends RuntimeException {
  CtlException(String message) {
    super(message);
  }

  CtlException(String message, Throwable cause) {
    super(message, cause);
  }
}
