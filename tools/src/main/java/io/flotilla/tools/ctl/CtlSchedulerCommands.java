package io.flotilla.tools.ctl;

import io.flotilla.engine.proto.SchedulerInfo;
import io.flotilla.engine.proto.SetSchedulerRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code flotilla ctl scheduler}: PD's schedulers and checkers, on or off, and their settings. */
@Command(name = "scheduler", mixinStandardHelpOptions = true,
    description = "List PD's schedulers and checkers; enable, disable or configure one.",
    subcommands = {CtlSchedulerCommands.ListSchedulers.class, CtlSchedulerCommands.Enable.class,
        CtlSchedulerCommands.Disable.class, CtlSchedulerCommands.Set.class})
final class CtlSchedulerCommands implements Runnable {
  @Spec
  CommandSpec spec;
  @ParentCommand
  CtlCommand ctl;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  /** A leaf under {@code scheduler}. */
  abstract static class Leaf extends CtlLeaf {
    @ParentCommand
    CtlSchedulerCommands group;

    @Override
    CtlCommand ctl() {
      return group.ctl;
    }

    /** Sends {@code req} and prints the scheduler as PD now has it. */
    int set(AdminClient pd, SetSchedulerRequest req) {
      SchedulerInfo s = pd.setScheduler(req);
      if (json()) {
        printJson(Views.json(s));
      } else {
        out().println(s.getName() + ": " + (s.getEnabled() ? "enabled" : "disabled") + ", " + Views.settings(s));
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Every scheduler: enabled, settings.")
  static final class ListSchedulers extends Leaf {
    @Override
    int run(AdminClient pd) {
      List<SchedulerInfo> all = pd.schedulers();
      if (json()) {
        printJson(Map.of("schedulers", Views.jsonList(all, Views::json)));
        return 0;
      }
      Table t = Table.of("NAME", "ENABLED", "SETTINGS", "DESCRIPTION");
      for (SchedulerInfo s : all) {
        t.row(s.getName(), s.getEnabled() ? "yes" : "no", Views.settings(s), s.getDescription());
      }
      t.print(out());
      return 0;
    }
  }

  @Command(name = "enable", mixinStandardHelpOptions = true, description = "Turn a scheduler on.")
  static final class Enable extends Leaf {
    @Parameters(index = "0", paramLabel = "NAME", description = "As `scheduler list` shows it.")
    String name;

    @Override
    int run(AdminClient pd) {
      return set(pd, SetSchedulerRequest.newBuilder().setName(name).setEnabled(true).build());
    }
  }

  @Command(name = "disable", mixinStandardHelpOptions = true, description = "Turn a scheduler off.")
  static final class Disable extends Leaf {
    @Parameters(index = "0", paramLabel = "NAME", description = "As `scheduler list` shows it.")
    String name;

    @Override
    int run(AdminClient pd) {
      return set(pd, SetSchedulerRequest.newBuilder().setName(name).setEnabled(false).build());
    }
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Change settings of a scheduler; PD names an unknown setting or a bad value and what is allowed.")
  static final class Set extends Leaf {
    @Parameters(index = "0", paramLabel = "NAME", description = "As `scheduler list` shows it.")
    String name;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY=VALUE", description = "Settings to change.")
    List<String> settings;

    @Override
    int run(AdminClient pd) {
      Map<String, String> parsed = new LinkedHashMap<>();
      for (String kv : settings) {
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw usage("KEY=VALUE: expected a setting like tolerance=0.05, got '" + kv + "'");
        }
        parsed.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
      }
      return set(pd, SetSchedulerRequest.newBuilder().setName(name).putAllSettings(parsed).build());
    }
  }
}
