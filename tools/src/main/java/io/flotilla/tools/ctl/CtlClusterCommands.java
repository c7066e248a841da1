package io.flotilla.tools.ctl;

import io.flotilla.engine.proto.ListOperatorsResponse;
import io.flotilla.engine.proto.ListSchedulersResponse;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.SchedulerInfo;
import io.flotilla.engine.proto.StoreInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code flotilla ctl cluster}: the whole cluster at a glance. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "The whole cluster at a glance.",
    subcommands = {CtlClusterCommands.HealthCheck.class})
final class CtlClusterCommands implements Runnable {
  /** How long health waits for the optional answers (operators, max-replicas) once stores and regions are in. */
  static final long OPTIONAL_WAIT_MS = 2_000;
  static final String REPLICA_CHECKER = "replica-checker";
  static final String MAX_REPLICAS = "max-replicas";

  @Spec
  CommandSpec spec;
  @ParentCommand
  CtlCommand ctl;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  @Command(name = "health", mixinStandardHelpOptions = true,
      description = {"Stores up/down/offline/tombstone, under-replicated and leaderless regions, regions on down",
          "stores, running operators; ends with a verdict. Exit code 0 healthy, 1 not (or PD unreachable)."})
  static final class HealthCheck extends CtlLeaf {
    @ParentCommand
    CtlClusterCommands group;

    @Override
    CtlCommand ctl() {
      return group.ctl;
    }

    @Override
    int run(AdminClient pd) {
      // Asked first so they run alongside the stores and regions; a PD without them still gets a verdict.
      CompletableFuture<ListSchedulersResponse> schedulers = pd.listSchedulersAsync();
      CompletableFuture<ListOperatorsResponse> operators = pd.listOperatorsAsync(false);
      List<StoreInfo> stores = pd.stores();
      List<RegionInfo> regions = pd.regions();
      long deadline = System.currentTimeMillis() + OPTIONAL_WAIT_MS;
      StringBuilder noSchedulers = new StringBuilder();
      StringBuilder noOperators = new StringBuilder();
      OptionalInt maxReplicas = pd.tryAwait(AdminClient.LIST_SCHEDULERS, schedulers, left(deadline), noSchedulers)
          .map(r -> maxReplicas(r.getSchedulersList())).orElse(OptionalInt.empty());
      Optional<ListOperatorsResponse> ops = pd.tryAwait(AdminClient.LIST_OPERATORS, operators, left(deadline),
          noOperators);
      OptionalInt running = ops.map(r -> OptionalInt.of(r.getOperatorsCount())).orElse(OptionalInt.empty());

      Health h = Health.assess(stores, regions, maxReplicas, running);
      if (json()) {
        printJson(json(h, noOperators.toString()));
      } else {
        print(h, noOperators.toString());
      }
      return h.healthy() ? 0 : 1;
    }

    private static long left(long deadline) {
      return Math.max(1, deadline - System.currentTimeMillis());
    }

    /** The replica-checker's max-replicas, if PD lists it as a positive integer. */
    static OptionalInt maxReplicas(List<SchedulerInfo> schedulers) {
      for (SchedulerInfo s : schedulers) {
        String v = s.getSettingsMap().get(MAX_REPLICAS);
        if (s.getName().equals(REPLICA_CHECKER) && v != null) {
          try {
            int n = Integer.parseInt(v.trim());
            return n > 0 ? OptionalInt.of(n) : OptionalInt.empty();
          } catch (NumberFormatException e) {
            return OptionalInt.empty();
          }
        }
      }
      return OptionalInt.empty();
    }

    private void print(Health h, String noOperators) {
      long now = System.currentTimeMillis();
      Map<String, Integer> c = h.storeCounts();
      Table.Details d = new Table.Details()
          .add("stores", c.get("up") + " up, " + c.get("down") + " down, " + c.get("offline") + " offline, "
              + c.get("tombstone") + " tombstone");
      for (StoreInfo s : h.downStores()) {
        d.add("  down", "store " + s.getStore().getId() + " at " + s.getStore().getAddress() + ", last heartbeat "
            + Format.ago(s.getLastHeartbeatMs(), now));
      }
      if (!h.offlineStores().isEmpty()) {
        d.add("  draining", "stores " + Health.ids(h.offlineStores()));
      }
      d.add("regions", h.regionCount() + ", each wants " + h.maxReplicas() + " voters"
              + (h.maxReplicasFromPd() ? " (replica-checker max-replicas)" : ""))
          .add("  fewer voters", listOrNone(h.underReplicated()))
          .add("  on down stores", listOrNone(h.onDownStores()))
          .add("  no leader", listOrNone(h.leaderless()))
          .add("operators", h.runningOperators().isPresent() ? h.runningOperators().getAsInt() + " running"
              : "unknown (" + noOperators + ")")
          .add("verdict", h.verdict());
      d.print(out());
    }

    private static String listOrNone(List<Long> ids) {
      return ids.isEmpty() ? "none" : ids.size() + " (regions " + Health.ids(ids) + ")";
    }

    private static Map<String, Object> json(Health h, String noOperators) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("healthy", h.healthy());
      Map<String, Object> stores = new LinkedHashMap<>();
      h.storeCounts().forEach((k, v) -> stores.put(k, (long) v));
      m.put("stores", stores);
      m.put("down_store_ids", h.downStores().stream().map(s -> s.getStore().getId()).toList());
      m.put("offline_store_ids", h.offlineStores());
      m.put("region_count", (long) h.regionCount());
      m.put("max_replicas", (long) h.maxReplicas());
      m.put("under_replicated_region_ids", h.underReplicated());
      m.put("regions_on_down_stores", h.onDownStores());
      m.put("leaderless_region_ids", h.leaderless());
      m.put("running_operators", h.runningOperators().isPresent() ? (Object) (long) h.runningOperators().getAsInt()
          : null);
      if (h.runningOperators().isEmpty()) {
        m.put("operators_unknown_because", noOperators);
      }
      m.put("verdict", h.verdict());
      return m;
    }
  }
}
