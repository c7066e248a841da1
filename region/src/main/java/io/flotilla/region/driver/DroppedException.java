package io.flotilla.region.driver;

/** The proposal was certainly not applied (refused, or overwritten by a new leader's log). Safe to retry. */
public final class DroppedException extends DriverException {
  public DroppedException(String message) {
    super(message);
  }
}
