package io.flotilla.engine.transport;

/** A snapshot transfer failed; {@link #reason()} says how. The sender may retry with a new id. */
public final class SnapshotTransferException extends TransportException {
  private static final long serialVersionUID = 1L;

  /** How a transfer failed. */
  public enum Reason {
    /** A chunk's bytes did not match its CRC32C. */
    CHECKSUM_MISMATCH,
    /** Chunks arrived with a gap, or a chunk of a transfer that had not started. */
    OUT_OF_ORDER,
    /** The receiving node's sink failed to store the snapshot. */
    RECEIVER_FAILED,
    /** The receiving node accepts no snapshots. */
    REJECTED,
    /** The lane stayed unwritable, or the verdict did not come, within the ack timeout. */
    TIMEOUT,
    /** Reading the snapshot's source stream failed on the sending node. */
    SOURCE_FAILED,
    /** A status this version does not know. */
    UNKNOWN
  }

  private final Reason reason;

  public SnapshotTransferException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = reason;
  }

  public SnapshotTransferException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
