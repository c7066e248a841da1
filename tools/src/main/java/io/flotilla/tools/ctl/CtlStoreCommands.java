package io.flotilla.tools.ctl;

import io.flotilla.engine.proto.SetStoreStateRequest;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code flotilla ctl store}: list, show, offline and remove stores. */
@Command(name = "store", mixinStandardHelpOptions = true, description = "List, show, drain and remove stores.",
    subcommands = {CtlStoreCommands.ListStores.class, CtlStoreCommands.Show.class, CtlStoreCommands.Offline.class,
        CtlStoreCommands.Remove.class})
final class CtlStoreCommands implements Runnable {
  @Spec
  CommandSpec spec;
  @ParentCommand
  CtlCommand ctl;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  /** A leaf under {@code store}. */
  abstract static class Leaf extends CtlLeaf {
    @ParentCommand
    CtlStoreCommands group;

    @Override
    CtlCommand ctl() {
      return group.ctl;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Every store PD knows (tombstones too): state, up/down, regions, leaders, space, last heartbeat.")
  static final class ListStores extends Leaf {
    @Override
    int run(AdminClient pd) {
      List<StoreInfo> stores = pd.stores();
      if (json()) {
        printJson(Map.of("stores", Views.jsonList(stores, Views::json)));
        return 0;
      }
      long now = System.currentTimeMillis();
      Table t = Table.of(">ID", "ADDRESS", "STATE", "HEALTH", ">REGIONS", ">LEADERS", ">USED", ">AVAILABLE",
          "HEARTBEAT");
      for (StoreInfo s : stores) {
        StoreStats st = s.getStats();
        t.row(s.getStore().getId(), s.getStore().getAddress(), Format.state(s.getStore().getState()),
            Views.health(s), st.getRegionCount(), st.getLeaderCount(), Format.bytes(st.getUsedBytes()),
            Format.bytes(st.getAvailableBytes()), Format.ago(s.getLastHeartbeatMs(), now));
      }
      t.print(out());
      if (stores.isEmpty()) {
        out().println("(no stores: start some against PD " + pd.pd() + ")");
      }
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "One store in detail.")
  static final class Show extends Leaf {
    @Parameters(index = "0", paramLabel = "ID", description = "The store id.")
    long id;

    @Override
    int run(AdminClient pd) {
      StoreInfo s = pd.store(positive("ID", id));
      if (json()) {
        printJson(Views.json(s));
      } else {
        Views.details(s, System.currentTimeMillis()).print(out());
      }
      return 0;
    }
  }

  @Command(name = "offline", mixinStandardHelpOptions = true,
      description = {"Drain a store: PD moves its replicas to other stores, then marks it Tombstone.",
          "Follow it with `flotilla ctl store show ID`."})
  static final class Offline extends Leaf {
    @Parameters(index = "0", paramLabel = "ID", description = "The store id.")
    long id;

    @Override
    int run(AdminClient pd) {
      StoreInfo s = pd.setStoreState(SetStoreStateRequest.newBuilder().setStoreId(positive("ID", id))
          .setState(StoreState.STORE_STATE_OFFLINE).build());
      if (json()) {
        printJson(Views.json(s));
      } else {
        out().println("store " + id + " is " + Format.state(s.getStore().getState()) + ": PD moves its "
            + s.getStats().getRegionCount() + " region replicas away, then marks it Tombstone "
            + "(`flotilla ctl store show " + id + "` follows it)");
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = {"Mark a store Tombstone: gone for good, it may never rejoin with this id.",
          "PD refuses while the store still holds replicas (drain it with `store offline` first) unless --force."})
  static final class Remove extends Leaf {
    @Parameters(index = "0", paramLabel = "ID", description = "The store id.")
    long id;

    @Option(names = "--force", description = "Even if it still holds replicas (they are lost from it).")
    boolean force;

    @Override
    int run(AdminClient pd) {
      StoreInfo s = pd.setStoreState(SetStoreStateRequest.newBuilder().setStoreId(positive("ID", id))
          .setState(StoreState.STORE_STATE_TOMBSTONE).setForce(force).build());
      if (json()) {
        printJson(Views.json(s));
      } else {
        out().println("store " + id + " is " + Format.state(s.getStore().getState()));
        out().flush();
      }
      return 0;
    }
  }
}
