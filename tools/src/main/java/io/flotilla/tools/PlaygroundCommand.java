package io.flotilla.tools;

import io.flotilla.pd.LocalCluster;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flotilla playground}: PD and stores in one process on 127.0.0.1, until Ctrl-C. */
@Command(name = "playground", mixinStandardHelpOptions = true,
    description = {"Start a local cluster: one PD and --stores stores on 127.0.0.1, data under --dir.",
        "Prints where to reach it; Ctrl-C stops it. Started again on the same --dir, it finds its data."})
final class PlaygroundCommand implements Callable<Integer> {
  @Option(names = "--stores", defaultValue = "3", description = "Stores (default: ${DEFAULT-VALUE}).")
  int stores;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Data directory (default: ~/.flotilla/playground).")
  Path dir;

  @Option(names = "--pd-port", defaultValue = "2379", description = "PD's port (default: ${DEFAULT-VALUE}).")
  int pdPort;

  @Option(names = "--store-port", defaultValue = "20160",
      description = "Port of the first store; the others follow (default: ${DEFAULT-VALUE}).")
  int storePort;

  @Override
  public Integer call() {
    Path data = dir != null ? dir : Path.of(System.getProperty("user.home"), ".flotilla", "playground");
    data = data.toAbsolutePath();
    LocalCluster cluster;
    try {
      cluster = LocalCluster.builder(data).stores(stores).pdPort(pdPort).storeBasePort(storePort).start();
    } catch (IllegalArgumentException e) {
      throw new ToolException(e.getMessage());
    } catch (RuntimeException e) {
      throw new ToolException("the playground did not start: " + e.getMessage()
          + " (is another playground or process using port " + pdPort + " or " + storePort + "?)", e);
    }
    System.out.println("Flotilla playground: 1 PD, " + stores + " stores, data in " + data);
    System.out.println("PD: " + cluster.pdAddress());
    List<String> addresses = cluster.storeAddresses();
    for (int i = 0; i < addresses.size(); i++) {
      System.out.println("Store " + cluster.store(i + 1).storeId() + ": " + addresses.get(i));
    }
    System.out.println("Try, from another shell: bin/flotilla kv put a 1; bin/flotilla kv get a; bin/flotilla kv scan");
    System.out.println("Ctrl-C stops the playground.");
    System.out.flush();
    ServerCommands.runUntilStopped(cluster, "playground");
    return 0;
  }
}
