package io.flotilla.tools;

import io.flotilla.router.KvException;
import io.flotilla.router.Txn;
import io.flotilla.router.TxnClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla txn put a 1 put b 2 get c}: runs the operations as one transaction (reads at its
 * start, writes committed together), printing what it read and the commit timestamp. Exit codes: 0
 * committed, 1 failed (nothing committed, or the outcome is unknown: the message says which), 2 bad
 * usage.
 */
@Command(name = "txn", mixinStandardHelpOptions = true,
    description = {"Run operations atomically as one transaction: put KEY VALUE, get KEY, del KEY.",
        "Reads see the snapshot at the transaction's start (and its own writes); prints what was read",
        "and the commit timestamp."})
final class TxnCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--pd", defaultValue = "127.0.0.1:2379", paramLabel = "ADDR",
      description = "PD address(es), comma-separated (default: ${DEFAULT-VALUE}).")
  String pd;

  @Option(names = "--timeout", defaultValue = "10s", paramLabel = "TIME",
      converter = io.flotilla.bench.DurationConverter.class,
      description = "Deadline of each call (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Parameters(paramLabel = "OP", arity = "1..*", description = "put KEY VALUE | get KEY | del KEY, repeated.")
  List<String> ops;

  private record Op(String kind, String key, String value) {}

  @Override
  public Integer call() {
    List<Op> parsed = parse(ops);
    PrintWriter out = spec.commandLine().getOut();
    try (TxnClient client = TxnClient.connect(KvCommand.routerConfig(spec, pd, timeout),
        TxnClient.Settings.defaults()); Txn t = client.begin()) {
      for (Op op : parsed) {
        switch (op.kind()) {
          case "put" -> t.put(op.key(), op.value());
          case "del" -> t.delete(op.key());
          default -> {
            String v = t.get(op.key());
            out.println(v == null ? op.key() + " (not found)" : op.key() + "=" + v);
          }
        }
      }
      long ts = t.commit();
      out.println("committed at " + ts + " (" + Instant.ofEpochMilli(ts >>> 18) + ", logical " + (ts & ((1 << 18) - 1))
          + "; started at " + t.startTs() + ")");
      return 0;
    } catch (KvException e) {
      throw KvCommand.unreachable(e, pd);
    }
  }

  private List<Op> parse(List<String> words) {
    List<Op> out = new ArrayList<>();
    for (int i = 0; i < words.size(); ) {
      String w = words.get(i);
      int need = switch (w) {
        case "put" -> 2;
        case "get", "del" -> 1;
        default -> throw new ParameterException(spec.commandLine(),
            "unknown operation '" + w + "' (at word " + (i + 1) + "): expected put KEY VALUE, get KEY or del KEY");
      };
      if (i + need >= words.size()) {
        throw new ParameterException(spec.commandLine(), "'" + w + "' at word " + (i + 1) + " needs "
            + (need == 2 ? "KEY VALUE" : "KEY"));
      }
      out.add(new Op(w, words.get(i + 1), need == 2 ? words.get(i + 2) : null));
      i += need + 1;
    }
    return out;
  }
}
