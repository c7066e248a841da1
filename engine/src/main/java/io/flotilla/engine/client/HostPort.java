package io.flotilla.engine.client;

import java.net.InetSocketAddress;

/** {@code host:port} strings, as PD members and stores advertise themselves. Stateless; any thread. */
public final class HostPort {
  private HostPort() {}

  /**
   * Parses {@code host:port} ({@code [v6-host]:port} for IPv6 literals) and resolves the host.
   *
   * @param allowPortZero whether port 0 ("pick a free port", for a listen address) is accepted
   * @throws IllegalArgumentException naming the expected form if {@code address} is not one
   */
  public static InetSocketAddress parse(String address, boolean allowPortZero) {
    if (address == null) {
      throw new IllegalArgumentException("address: must be host:port, got null");
    }
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("address: must be host:port, got '" + address + "'");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("address: port must be a number, got '" + address + "'");
    }
    int min = allowPortZero ? 0 : 1;
    if (port < min || port > 65535) {
      throw new IllegalArgumentException(
          "address: port must be in [" + min + ", 65535], got '" + address + "'");
    }
    return new InetSocketAddress(host, port);
  }

  /** {@code host:port} of an address (the literal IP if it was resolved from one). */
  public static String format(InetSocketAddress address) {
    String host = address.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
