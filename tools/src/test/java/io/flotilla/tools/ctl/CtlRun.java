package io.flotilla.tools.ctl;

import io.flotilla.tools.Flotilla;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** One in-process run of {@code flotilla ctl --pd PD ARGS}: its exit code, stdout and stderr. */
record CtlRun(int exit, String out, String err) {

  static CtlRun ctl(String pd, String... args) {
    List<String> all = new ArrayList<>(List.of("ctl", "--pd", pd));
    all.addAll(List.of(args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Flotilla.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
    int exit = cl.execute(all.toArray(String[]::new));
    return new CtlRun(exit, out.toString(), err.toString());
  }

  Map<String, Object> json() {
    return CtlJsonReader.object(out);
  }

  /** The table's data rows (the header dropped), split on runs of blanks. */
  List<String[]> rows() {
    List<String[]> rows = new ArrayList<>();
    String[] lines = out.split("\\R");
    for (int i = 1; i < lines.length; i++) {
      if (!lines[i].isBlank() && !lines[i].startsWith("(")) {
        rows.add(lines[i].trim().split("\\s{2,}"));
      }
    }
    return rows;
  }

  @Override
  public String toString() {
    return "exit " + exit + "\n--- out\n" + out + "--- err\n" + err;
  }
}
