package io.flotilla.tools.ctl;

import io.flotilla.bench.DurationConverter;
import io.flotilla.engine.client.HostPort;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla ctl}: the placement driver's admin tool. One subcommand class per family
 * ({@code store}, {@code region}, {@code operator}, {@code scheduler}, {@code cluster}) and the
 * leaf {@code tso}; each leaf is a {@link CtlLeaf}. Tables for people, {@code --json} (one
 * document) for scripts. Exit codes: 0 done (and healthy), 1 failed (or unhealthy), 2 bad usage.
 */
@Command(name = "ctl", mixinStandardHelpOptions = true,
    description = {"Inspect and steer the cluster through PD: stores, regions, operators, schedulers, health, "
        + "timestamps.", "Exit code 0 done, 1 failed (or unhealthy), 2 bad usage."},
    subcommands = {CtlStoreCommands.class, CtlRegionCommands.class, CtlOperatorCommands.class,
        CtlSchedulerCommands.class, CtlClusterCommands.class, CtlTsoCommand.class})
public final class CtlCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Option(names = "--pd", defaultValue = "127.0.0.1:2379", paramLabel = "ADDR", scope = ScopeType.INHERIT,
      description = "PD address(es), comma-separated (default: ${DEFAULT-VALUE}).")
  String pd;

  @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print one JSON document instead of tables.")
  boolean json;

  @Option(names = "--timeout", defaultValue = "10s", paramLabel = "TIME", converter = DurationConverter.class,
      scope = ScopeType.INHERIT, description = "Deadline of each PD call (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  /** A PD session for {@code leaf}; bad --pd or --timeout values are bad usage of {@code leaf}. */
  AdminClient connect(CommandSpec leaf) {
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (String a : pd.split(",")) {
      if (a.isBlank()) {
        continue;
      }
      try {
        addresses.add(HostPort.parse(a.trim(), false));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(leaf.commandLine(), "--pd: must be host:port[,host:port...], got '" + pd + "'");
      }
    }
    if (addresses.isEmpty()) {
      throw new ParameterException(leaf.commandLine(), "--pd: must be host:port[,host:port...], got '" + pd + "'");
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new ParameterException(leaf.commandLine(), "--timeout: must be > 0, got " + timeout);
    }
    return new AdminClient(pd, addresses, timeout);
  }
}
