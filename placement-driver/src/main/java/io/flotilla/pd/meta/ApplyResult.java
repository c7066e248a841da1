package io.flotilla.pd.meta;

import io.flotilla.engine.proto.PdErrorType;

/**
 * What applying one PD command produced, handed to the proposer's future. Deterministic: every
 * member computes the same result for the same entry.
 *
 * @param error {@link PdErrorType#PD_ERROR_NONE} if the command took effect (or was a harmless
 *     no-op, such as a stale region report)
 * @param message why it failed, for the client
 * @param value command-specific: the first reserved id, the cluster id, the TSO's saved bound before
 *     a save, or 1 if a region report was taken and 0 if it was stale
 */
public record ApplyResult(PdErrorType error, String message, long value) {
  private static final ApplyResult OK = new ApplyResult(PdErrorType.PD_ERROR_NONE, "", 0);

  public static ApplyResult ok() {
    return OK;
  }

  public static ApplyResult ok(long value) {
    return new ApplyResult(PdErrorType.PD_ERROR_NONE, "", value);
  }

  public static ApplyResult error(PdErrorType type, String message) {
    return new ApplyResult(type, message, 0);
  }

  public boolean isOk() {
    return error == PdErrorType.PD_ERROR_NONE;
  }
}
