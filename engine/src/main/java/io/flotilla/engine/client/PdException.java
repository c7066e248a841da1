package io.flotilla.engine.client;

import io.flotilla.engine.proto.PdErrorType;

/** PD answered a call with an error. */
public final class PdException extends RuntimeException {
  private final PdErrorType type;

  public PdException(PdErrorType type, String message) {
    super(type + ": " + message);
    this.type = type;
  }

  public PdErrorType type() {
    return type;
  }
}
