package io.flotilla.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The launcher wires its subcommands and turns bad usage into exit code 2 with a short message. */
class FlotillaTest {

  @Test
  void helpListsTheBenchAndItsRaftWorkload() {
    StringWriter out = new StringWriter();
    CommandLine cl = Flotilla.commandLine().setOut(new PrintWriter(out, true));

    assertThat(cl.execute("bench", "--help")).isZero();
    assertThat(out.toString()).contains("raft");
    assertThat(cl.getSubcommands()).containsKey("bench");
  }

  @Test
  void badUsageExitsWithTwoAndSaysWhatWasWrong() {
    StringWriter err = new StringWriter();
    CommandLine cl = Flotilla.commandLine().setErr(new PrintWriter(err, true));

    assertThat(cl.execute("bench", "raft", "--concurrency", "0")).isEqualTo(2);
    assertThat(err.toString())
        .contains("flotilla bench raft: --concurrency must be in [1, 1000000], got 0")
        .contains("Try 'flotilla bench raft --help'");
  }

  @Test
  void aMissingSubcommandIsBadUsage() {
    StringWriter err = new StringWriter();
    assertThat(Flotilla.commandLine().setErr(new PrintWriter(err, true)).execute()).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required subcommand");
  }
}
