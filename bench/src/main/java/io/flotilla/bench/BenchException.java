package io.flotilla.bench;

/**
 * A benchmark could not run or finish (a node failed to start, no leaders were elected, a node
 * process died). The command line prints its message without a stack trace.
 */
public final class BenchException extends RuntimeException {
  public BenchException(String message) {
    super(message);
  }

  public BenchException(String message, Throwable cause) {
    super(message, cause);
  }
}
