package io.flotilla.tools;

/** An expected failure of a command: its message says what happened and what to do; exit code 1. */
final class ToolException extends RuntimeException {
  ToolException(String message) {
    super(message);
  }

  ToolException(String message, Throwable cause) {
    super(message, cause);
  }
}
