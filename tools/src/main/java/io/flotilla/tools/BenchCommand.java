package io.flotilla.tools;

import io.flotilla.bench.kv.KvBench;
import io.flotilla.bench.raft.RaftBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code flotilla bench}: workloads that print ops/s and latency percentiles; one subcommand each. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Run a workload and report ops/s and latency percentiles (progress every second, optional JSON).",
    subcommands = {RaftBench.class, KvBench.class, io.flotilla.bench.txn.TxnBench.class})
final class BenchCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }
}
