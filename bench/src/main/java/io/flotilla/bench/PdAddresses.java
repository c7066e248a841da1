package io.flotilla.bench;

import io.flotilla.engine.client.HostPort;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** The benches' {@code --pd host:port[,host:port...]}: a bad one is a usage error naming the option. */
public final class PdAddresses {
  private PdAddresses() {}

  public static List<InetSocketAddress> parse(String addresses, CommandLine cl) {
    List<InetSocketAddress> out = new ArrayList<>();
    for (String a : addresses.split(",")) {
      try {
        out.add(HostPort.parse(a.trim(), false));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(cl, "--pd must be host:port[,host:port...], got '" + addresses + "'");
      }
    }
    return out;
  }
}
