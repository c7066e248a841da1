package io.flotilla.region.driver;

/**
 * The deadline passed before the proposal's fate was known: it may or may not be applied. Only an
 * idempotent retry (or a read) can tell.
 */
public final class OutcomeUnknownException extends DriverException {
  public OutcomeUnknownException(String message) {
    super(message);
  }
}
