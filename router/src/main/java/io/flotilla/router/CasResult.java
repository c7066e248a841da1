package io.flotilla.router;

/**
 * What a compare-and-set did. On success {@code current} is the value written (null if the CAS
 * deleted the key); on failure it is the key's current value, null when the key is absent.
 */
public record CasResult(boolean succeeded, byte[] current) {

  public CasResult {
    current = current == null ? null : current.clone();
  }

  /** A copy of the value (null: absent). */
  @Override
  public byte[] current() {
    return current == null ? null : current.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CasResult other && succeeded == other.succeeded
        && java.util.Arrays.equals(current, other.current);
  }

  @Override
  public int hashCode() {
    return 31 * Boolean.hashCode(succeeded) + java.util.Arrays.hashCode(current);
  }

  @Override
  public String toString() {
    return "CasResult{succeeded=" + succeeded + ", current="
        + (current == null ? "absent" : current.length + " bytes") + "}";
  }
}
