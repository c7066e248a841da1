package io.flotilla.router.cache;

/** PD knows no region for a key (not bootstrapped yet, or a gap while it catches up). Retryable. */
public final class RegionMissingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RegionMissingException(String message) {
    super(message);
  }
}
