package io.flotilla.engine.transport;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a connection is closed because of what the other side sent: exactly one WARN line
 * naming the remote address and the reason, one count in {@link TransportMetrics#protocolErrors},
 * then close. Other connections are not touched.
 *
 * <p>Threads: any thread; the once-only guarantee holds per channel.
 */
final class ProtocolErrors {

  private static final Logger LOG = LoggerFactory.getLogger(ProtocolErrors.class);
  private static final AttributeKey<Boolean> REPORTED =
      AttributeKey.valueOf(ProtocolErrors.class, "reported");

  private ProtocolErrors() {}

  static void closeConnection(Channel channel, TransportMetrics metrics, String reason) {
    if (channel.attr(REPORTED).setIfAbsent(Boolean.TRUE) == null) {
      metrics.protocolErrors.increment();
      String why = reason.endsWith(".") ? reason.substring(0, reason.length() - 1) : reason;
      LOG.warn(
          "Closing the connection with {} (local {}): {}. The other side sent data this node cannot"
              + " read; check that it runs a compatible Flotilla version and is not a stray client.",
          channel.remoteAddress(),
          channel.localAddress(),
          why);
    }
    channel.close();
  }

  /**
   * Closes a channel on this node's own initiative (shutdown, a peer removed): a frame left half
   * read is then not the remote's fault and is not reported.
   */
  static void closeLocally(Channel channel) {
    channel.attr(REPORTED).setIfAbsent(Boolean.FALSE);
    channel.close();
  }

  /** Whether this channel was already closed for a protocol error or on purpose. */
  static boolean closing(Channel channel) {
    return channel.attr(REPORTED).get() != null;
  }
}
