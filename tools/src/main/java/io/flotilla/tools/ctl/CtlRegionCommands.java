package io.flotilla.tools.ctl;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.AddOperatorRequest;
import io.flotilla.engine.proto.OperatorInfo;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.StoreInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla ctl region}: list and show regions, and ask PD for an operator on one (split,
 * transfer-leader, add-peer, remove-peer, move). Keys are text, or {@code 0x} and hex.
 */
@Command(name = "region", mixinStandardHelpOptions = true,
    description = {"List and show regions; split, move and re-lead them through PD operators.",
        "Keys print as text, or as 0x and hex when not printable; both forms are accepted back."},
    subcommands = {CtlRegionCommands.ListRegions.class, CtlRegionCommands.Show.class, CtlRegionCommands.Key.class,
        CtlRegionCommands.Split.class, CtlRegionCommands.TransferLeader.class, CtlRegionCommands.AddPeer.class,
        CtlRegionCommands.RemovePeer.class, CtlRegionCommands.Move.class})
final class CtlRegionCommands implements Runnable {
  @Spec
  CommandSpec spec;
  @ParentCommand
  CtlCommand ctl;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  /** A leaf under {@code region}. */
  abstract static class Leaf extends CtlLeaf {
    @ParentCommand
    CtlRegionCommands group;

    @Override
    CtlCommand ctl() {
      return group.ctl;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = {"Regions in key order: range, epoch (version/conf_ver), leader's store,",
          "peers as id@store(role), approximate size and keys."})
  static final class ListRegions extends Leaf {
    @Option(names = "--store", paramLabel = "ID", description = "Only regions with a peer on this store.")
    long store;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
        description = "At most N regions (default: 0, all).")
    int limit;

    @Override
    int run(AdminClient pd) {
      if (limit < 0) {
        throw usage("--limit: must be >= 0, got " + limit);
      }
      if (store < 0) {
        throw usage("--store: must be a positive id, got " + store);
      }
      List<RegionInfo> matching = new ArrayList<>();
      for (RegionInfo r : pd.regions()) {
        if (store == 0 || r.getRegion().getPeersList().stream().anyMatch(p -> p.getStoreId() == store)) {
          matching.add(r);
        }
      }
      List<RegionInfo> shown = limit > 0 && matching.size() > limit ? matching.subList(0, limit) : matching;
      if (json()) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("regions", Views.jsonList(shown, Views::json));
        doc.put("count", (long) matching.size());
        doc.put("truncated", shown.size() < matching.size());
        printJson(doc);
        return 0;
      }
      Table t = Table.of(">ID", "START", "END", "EPOCH", "LEADER", "PEERS", ">SIZE", ">KEYS");
      for (RegionInfo r : shown) {
        t.row(r.getRegion().getId(), Format.startKey(r.getRegion().getStartKey()),
            Format.endKey(r.getRegion().getEndKey()), Views.epoch(r.getRegion()), Views.leaderStore(r),
            Views.peers(r.getRegion()), Format.bytes(r.getApproximateSize()), r.getApproximateKeys());
      }
      t.print(out());
      if (shown.size() < matching.size()) {
        out().println("(" + shown.size() + " of " + matching.size() + " regions; --limit 0 shows all)");
      } else if (matching.isEmpty()) {
        out().println(store == 0 ? "(no regions: the cluster is not bootstrapped yet)"
            : "(no regions with a peer on store " + store + ")");
      }
      out().flush();
      return 0;
    }
  }

  /** Prints one region with its peers and their stores. */
  static int show(Leaf leaf, AdminClient pd, RegionInfo r) {
    if (leaf.json()) {
      leaf.printJson(Views.json(r));
      return 0;
    }
    Map<Long, StoreInfo> stores = new HashMap<>();
    for (StoreInfo s : pd.stores()) {
      stores.put(s.getStore().getId(), s);
    }
    Views.details(r).print(leaf.out());
    leaf.out().println();
    Table t = Table.of(">PEER", ">STORE", "ROLE", "LEADER", "ADDRESS", "STORE STATE", "HEALTH");
    for (Peer p : r.getRegion().getPeersList()) {
      StoreInfo s = stores.get(p.getStoreId());
      boolean leader = r.hasLeader() && r.getLeader().getId() == p.getId();
      t.row(p.getId(), p.getStoreId(), Format.role(p.getRole()), leader ? "*" : "",
          s == null ? "?" : s.getStore().getAddress(), s == null ? "unknown" : Format.state(s.getStore().getState()),
          s == null ? "?" : Views.health(s));
    }
    t.print(leaf.out());
    return 0;
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "One region in detail, with its peers.")
  static final class Show extends Leaf {
    @Parameters(index = "0", paramLabel = "ID", description = "The region id.")
    long id;

    @Override
    int run(AdminClient pd) {
      return show(this, pd, pd.region(positive("ID", id)));
    }
  }

  @Command(name = "key", mixinStandardHelpOptions = true, description = "The region holding KEY, in detail.")
  static final class Key extends Leaf {
    @Parameters(index = "0", paramLabel = "KEY", description = "Text, or 0x and hex.")
    String key;

    @Override
    int run(AdminClient pd) {
      return show(this, pd, pd.regionByKey(Format.parseKey(key)));
    }
  }

  /** A leaf that asks PD for one operator and prints it. */
  abstract static class OperatorLeaf extends Leaf {
    @Parameters(index = "0", paramLabel = "ID", description = "The region id.")
    long id;

    abstract AddOperatorRequest.Builder request();

    @Override
    final int run(AdminClient pd) {
      AddOperatorRequest req = request().setRegionId(positive("ID", id)).build();
      OperatorInfo op = pd.addOperator(req);
      if (json()) {
        printJson(Views.json(op));
      } else {
        Views.details(op, System.currentTimeMillis()).print(out());
        out().println("(`flotilla ctl operator list` follows it)");
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "split", mixinStandardHelpOptions = true,
      description = "Split a region at --key, or at its middle key.")
  static final class Split extends OperatorLeaf {
    @Option(names = "--key", paramLabel = "K", description = "Split key: text, or 0x and hex (default: the middle).")
    String key;

    @Override
    AddOperatorRequest.Builder request() {
      AddOperatorRequest.Builder b = AddOperatorRequest.newBuilder().setKind(OperatorKind.OPERATOR_KIND_SPLIT);
      if (key != null) {
        if (key.isEmpty()) {
          throw usage("--key: must not be empty (leave it out to split at the middle)");
        }
        b.setSplitKey(ByteString.copyFrom(Format.parseKey(key)));
      }
      return b;
    }
  }

  @Command(name = "transfer-leader", mixinStandardHelpOptions = true,
      description = "Move a region's leadership to its peer on --to-store.")
  static final class TransferLeader extends OperatorLeaf {
    @Option(names = "--to-store", required = true, paramLabel = "S", description = "Store of the new leader.")
    long toStore;

    @Override
    AddOperatorRequest.Builder request() {
      return AddOperatorRequest.newBuilder().setKind(OperatorKind.OPERATOR_KIND_TRANSFER_LEADER)
          .setToStore(positive("--to-store", toStore));
    }
  }

  @Command(name = "add-peer", mixinStandardHelpOptions = true, description = "Add a replica of a region on --store.")
  static final class AddPeer extends OperatorLeaf {
    @Option(names = "--store", required = true, paramLabel = "S", description = "Store to add the replica on.")
    long store;

    @Override
    AddOperatorRequest.Builder request() {
      return AddOperatorRequest.newBuilder().setKind(OperatorKind.OPERATOR_KIND_ADD_PEER)
          .setToStore(positive("--store", store));
    }
  }

  @Command(name = "remove-peer", mixinStandardHelpOptions = true,
      description = "Remove a region's replica on --store.")
  static final class RemovePeer extends OperatorLeaf {
    @Option(names = "--store", required = true, paramLabel = "S", description = "Store whose replica goes.")
    long store;

    @Override
    AddOperatorRequest.Builder request() {
      return AddOperatorRequest.newBuilder().setKind(OperatorKind.OPERATOR_KIND_REMOVE_PEER)
          .setFromStore(positive("--store", store));
    }
  }

  @Command(name = "move", mixinStandardHelpOptions = true,
      description = "Move a region's replica from --from-store to --to-store.")
  static final class Move extends OperatorLeaf {
    @Option(names = "--from-store", required = true, paramLabel = "A", description = "Store the replica leaves.")
    long fromStore;

    @Option(names = "--to-store", required = true, paramLabel = "B", description = "Store the replica goes to.")
    long toStore;

    @Override
    AddOperatorRequest.Builder request() {
      if (fromStore == toStore) {
        throw usage("--from-store and --to-store must differ, both are " + fromStore);
      }
      return AddOperatorRequest.newBuilder().setKind(OperatorKind.OPERATOR_KIND_MOVE_PEER)
          .setFromStore(positive("--from-store", fromStore)).setToStore(positive("--to-store", toStore));
    }
  }
}
