package io.flotilla.engine.transport;

/** Base of the typed failures the transport completes futures with. */
public class TransportException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TransportException(String message) {
    super(message);
  }

  public TransportException(String message, Throwable cause) {
    super(message, cause);
  }
}
