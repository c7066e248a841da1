package io.flotilla.router.cache;

/** A store cannot be called: a tombstone, or no usable address. Try another peer. */
public final class StoreUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String message) {
    super(message);
  }
}
