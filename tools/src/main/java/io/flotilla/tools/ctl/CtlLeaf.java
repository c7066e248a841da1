package io.flotilla.tools.ctl;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * A ctl command that talks to PD: opens the session, runs {@link #run}, and turns a {@link
 * CtlException} into its one line on stderr and exit code 1. Bad usage is a {@link
 * ParameterException} (exit code 2, from the launcher).
 */
abstract class CtlLeaf implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /** The {@code ctl} command, for --pd, --json and --timeout. */
  abstract CtlCommand ctl();

  /** Does the work; returns the exit code. */
  abstract int run(AdminClient pd);

  @Override
  public final Integer call() {
    try (AdminClient pd = ctl().connect(spec)) {
      return run(pd);
    } catch (CtlException e) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(spec.commandLine().getColorScheme().errorText(spec.qualifiedName() + ": " + e.getMessage()));
      err.flush();
      return 1;
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  boolean json() {
    return ctl().json;
  }

  /** Prints {@code doc} as JSON. */
  void printJson(Object doc) {
    out().print(JsonWriter.write(doc));
    out().flush();
  }

  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** An id given on the command line: must be positive. */
  long positive(String name, long value) {
    if (value <= 0) {
      throw usage(name + ": must be a positive id, got " + value);
    }
    return value;
  }
}
