package io.flotilla.router;

import io.flotilla.engine.client.PdClient;
import io.flotilla.engine.client.RemotePdClient;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/** Makes the engine's network PD client for {@link KvClient#connect}. */
final class RemotePdClients {
  private RemotePdClients() {}

  static PdClient create(List<InetSocketAddress> pdAddresses, Duration deadline) {
    if (pdAddresses.isEmpty()) {
      throw new IllegalArgumentException("pdAddresses must name at least one PD member");
    }
    return new RemotePdClient(pdAddresses, deadline);
  }
}
