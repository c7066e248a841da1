package io.flotilla.engine.transport;

/** A request could not be sent: it does not fit in one frame ({@link TransportConfig#maxFrameBytes}). */
public final class FrameTooLargeException extends TransportException {
  private static final long serialVersionUID = 1L;

  public FrameTooLargeException(long frameBytes, int maxFrameBytes) {
    super("frame of " + frameBytes + " bytes exceeds maxFrameBytes = " + maxFrameBytes);
  }
}
