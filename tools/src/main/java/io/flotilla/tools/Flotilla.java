package io.flotilla.tools;

import io.flotilla.bench.BenchException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code flotilla}: the one command line. Each family of commands is a subcommand class registered
 * here ({@code bench} now; {@code playground}, {@code kv}, {@code ctl}, {@code pd}, {@code store}
 * and {@code raft-log} as they come). Exit codes: 0 success, 1 the command failed, 2 bad usage.
 */
@Command(
    name = "flotilla",
    mixinStandardHelpOptions = true,
    versionProvider = Flotilla.Version.class,
    description = "Flotilla: a Multi-Raft, sharded, replicated, ordered key-value store.",
    subcommands = {HelpCommand.class, PlaygroundCommand.class, KvCommand.class, TxnCommand.class, ServerCommands.Pd.class,
        ServerCommands.StoreServer.class, BenchCommand.class, io.flotilla.tools.ctl.CtlCommand.class})
public final class Flotilla implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code. */
  public static int execute(String... args) {
    return commandLine().execute(args);
  }

  /** The configured command line, for tests that capture its output. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Flotilla());
    cl.setParameterExceptionHandler(Flotilla::usageError);
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof BenchException || e instanceof ToolException) {
        // Expected failures carry a message that says what happened and what to look at.
        cmd.getErr().println(cmd.getColorScheme().errorText(cmd.getCommandSpec().qualifiedName() + ": "
            + e.getMessage()));
        return 1;
      }
      throw e;
    });
    return cl;
  }

  /** Bad usage: the error, suggestions for a mistyped word, and where to find help; no wall of text. */
  private static int usageError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println(cmd.getColorScheme().errorText(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage()));
    UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** The version from the jar manifest (absent when run from classes). */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Flotilla.class.getPackage().getImplementationVersion();
      return new String[] {"flotilla " + (v == null ? "(development build)" : v)};
    }
  }
}
