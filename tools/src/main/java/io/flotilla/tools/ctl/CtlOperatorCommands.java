package io.flotilla.tools.ctl;

import io.flotilla.engine.proto.CancelOperatorRequest;
import io.flotilla.engine.proto.OperatorInfo;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code flotilla ctl operator}: the operators PD runs (from schedulers, checkers and admins), and cancelling one. */
@Command(name = "operator", mixinStandardHelpOptions = true,
    description = "List PD's operators (running, or recently ended too) and cancel one.",
    subcommands = {CtlOperatorCommands.ListOperators.class, CtlOperatorCommands.Cancel.class})
final class CtlOperatorCommands implements Runnable {
  @Spec
  CommandSpec spec;
  @ParentCommand
  CtlCommand ctl;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  /** A leaf under {@code operator}. */
  abstract static class Leaf extends CtlLeaf {
    @ParentCommand
    CtlOperatorCommands group;

    @Override
    CtlCommand ctl() {
      return group.ctl;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Running operators (--all: recently ended too).")
  static final class ListOperators extends Leaf {
    @Option(names = "--all", description = "Also the recently ended ones (finished, cancelled, timed out, stale).")
    boolean all;

    @Override
    int run(AdminClient pd) {
      List<OperatorInfo> ops = pd.operators(all);
      if (json()) {
        printJson(Map.of("operators", Views.jsonList(ops, Views::json)));
        return 0;
      }
      long now = System.currentTimeMillis();
      Table t = all
          ? Table.of(">ID", ">REGION", "KIND", "ORIGIN", "STATE", "STEP", "AGE", "DESCRIPTION", "REASON")
          : Table.of(">ID", ">REGION", "KIND", "ORIGIN", "STATE", "STEP", "AGE", "DESCRIPTION");
      for (OperatorInfo op : ops) {
        Object[] cells = {op.getId(), op.getRegionId(), Format.kind(op.getKind()), op.getOrigin(),
            Format.state(op.getState()), Views.step(op), Format.ago(op.getCreatedMs(), now), op.getDescription(),
            op.getReason()};
        t.row(all ? cells : Arrays.copyOf(cells, cells.length - 1));
      }
      t.print(out());
      if (ops.isEmpty()) {
        out().println(all ? "(no operators)" : "(no running operators; --all shows the recently ended ones)");
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "Cancel an operator, by its id or by its region's id.")
  static final class Cancel extends Leaf {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
      @Option(names = "--id", paramLabel = "N", description = "The operator id.")
      long operatorId;

      @Option(names = "--region", paramLabel = "N", description = "The region whose running operator to cancel.")
      long regionId;
    }

    @Override
    int run(AdminClient pd) {
      CancelOperatorRequest.Builder b = CancelOperatorRequest.newBuilder();
      if (target.operatorId != 0) {
        b.setOperatorId(positive("--id", target.operatorId));
      } else {
        b.setRegionId(positive("--region", target.regionId));
      }
      OperatorInfo op = pd.cancelOperator(b.build());
      if (json()) {
        printJson(Views.json(op));
      } else {
        out().println("operator " + op.getId() + " (" + op.getDescription() + ") is " + Format.state(op.getState()));
        out().flush();
      }
      return 0;
    }
  }
}
