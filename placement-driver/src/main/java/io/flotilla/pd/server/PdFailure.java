package io.flotilla.pd.server;

import io.flotilla.engine.proto.PdError;
import io.flotilla.engine.proto.PdErrorType;

/**
 * A request PD answers with an error: thrown (or failed with) inside a handler, turned into the
 * response's {@link PdError}. Control flow, so no stack trace.
 */
final class PdFailure extends RuntimeException {
  private final transient PdError error;

  PdFailure(PdError error) {
    super(error.getType() + ": " + error.getMessage(), null, false, false);
    this.error = error;
  }

  PdFailure(PdErrorType type, String message) {
    this(PdError.newBuilder().setType(type).setMessage(message).build());
  }

  PdError error() {
    return error;
  }
}
