package io.flotilla.router;

/**
 * Base of everything the router fails a call with. Subclasses say what the caller can conclude:
 *
 * <table>
 *   <caption>Router failures</caption>
 *   <tr><th>exception</th><th>did a write happen?</th><th>what to do</th></tr>
 *   <tr><td>{@link OutcomeUnknownException}</td><td>maybe</td><td>read back, or retry an
 *       idempotent write</td></tr>
 *   <tr><td>{@link LimitExceededException}</td><td>no</td><td>make the key, value or batch
 *       smaller</td></tr>
 *   <tr><td>{@link DeadlineExceededException}</td><td>no</td><td>retry later, or with a longer
 *       deadline</td></tr>
 *   <tr><td>{@link RegionUnavailableException}</td><td>no</td><td>check the cluster (PD, stores,
 *       leaders): nothing answered usefully until the deadline</td></tr>
 *   <tr><td>{@code KvException} itself</td><td>no</td><td>a bug or a protocol mismatch; the message
 *       and cause say what</td></tr>
 * </table>
 */
public class KvException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KvException(String message) {
    super(message);
  }

  public KvException(String message, Throwable cause) {
    super(message, cause);
  }
}
