package io.flotilla.region.driver;

/** Base of the typed outcomes a proposal or read can fail with. */
public class DriverException extends RuntimeException {
  public DriverException(String message) {
    super(message);
  }
}
