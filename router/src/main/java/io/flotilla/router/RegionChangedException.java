package io.flotilla.router;

/**
 * A request's keys no longer fit in one region (it split under it): the caller splits the request
 * again by region and sends the parts. Internal control flow; never reaches a user.
 */
final class RegionChangedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Whether an earlier attempt may have been applied (the parts are sent under new seqs). */
  final boolean maybeDelivered;

  RegionChangedException(boolean maybeDelivered) {
    super("the request's keys span more than one region now", null, false, false);
    this.maybeDelivered = maybeDelivered;
  }
}
