package io.flotilla.engine.transport;

/**
 * The connection an RPC or snapshot transfer needed is gone (or could not be made).
 *
 * <p>{@link #maybeDelivered()} tells whether the request had been written before: if not, the server
 * never saw it and retrying is safe; if so, the outcome is unknown.
 */
public final class ConnectionLostException extends TransportException {
  private static final long serialVersionUID = 1L;

  private final String target;
  private final boolean maybeDelivered;

  public ConnectionLostException(String target, boolean maybeDelivered, String detail) {
    super("connection to " + target + " lost" + (maybeDelivered ? " after the request was sent"
        : " before the request was sent") + ": " + detail);
    this.target = target;
    this.maybeDelivered = maybeDelivered;
  }

  public String target() {
    return target;
  }

  public boolean maybeDelivered() {
    return maybeDelivered;
  }
}
