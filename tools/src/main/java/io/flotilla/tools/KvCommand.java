package io.flotilla.tools;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.flotilla.engine.client.HostPort;
import io.flotilla.router.CasResult;
import io.flotilla.router.KvClient;
import io.flotilla.router.KvEntry;
import io.flotilla.router.KvException;
import io.flotilla.router.RouterConfig;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla kv}: get, put, delete, scan and compare-and-set through the router. Keys and
 * values are UTF-8 text. Exit codes: 0 done, 1 failed (or, for get and cas, not found / not set),
 * 2 bad usage.
 */
@Command(name = "kv", mixinStandardHelpOptions = true,
    description = "Read and write keys through the router (keys and values are UTF-8 text).",
    subcommands = {KvCommand.Put.class, KvCommand.Get.class, KvCommand.Del.class, KvCommand.Scan.class,
        KvCommand.Cas.class})
final class KvCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Option(names = "--pd", defaultValue = "127.0.0.1:2379", paramLabel = "ADDR",
      description = "PD address(es), comma-separated (default: ${DEFAULT-VALUE}).", scope = picocli.CommandLine.ScopeType.INHERIT)
  String pd;

  @Option(names = "--timeout", defaultValue = "10s", paramLabel = "TIME",
      converter = io.flotilla.bench.DurationConverter.class,
      description = "Deadline of the call (default: ${DEFAULT-VALUE}).", scope = picocli.CommandLine.ScopeType.INHERIT)
  Duration timeout;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }

  /** Runs {@code body} with a client, turning router errors into one line that says what to do. */
  <T> T withClient(Function<KvClient, T> body) {
    try (KvClient kv = KvClient.connect(routerConfig(spec, pd, timeout))) {
      return body.apply(kv);
    } catch (KvException e) {
      throw unreachable(e, pd);
    }
  }

  /** The router settings of a command-line client: {@code --pd}, {@code --timeout}, two threads. */
  static RouterConfig routerConfig(CommandSpec spec, String pd, Duration timeout) {
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (String a : pd.split(",")) {
      try {
        addresses.add(HostPort.parse(a.trim(), false));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--pd: must be host:port[,host:port...], got '" + pd + "'");
      }
    }
    RouterConfig defaults = RouterConfig.defaults(addresses);
    return new RouterConfig(addresses, timeout, timeout.compareTo(defaults.attemptTimeout()) < 0
        ? timeout : defaults.attemptTimeout(), defaults.backoffMin(), defaults.backoffMax(), defaults.scanPageSize(),
        defaults.maxKeyBytes(), defaults.maxValueBytes(), defaults.maxBatchBytes(), 2);
  }

  /** A router failure as one line that says what to check. */
  static ToolException unreachable(KvException e, String pd) {
    return new ToolException(e.getMessage() + " (PD " + pd + "; is a cluster running there? "
        + "bin/flotilla playground starts one)", e);
  }

  static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  @Command(name = "put", mixinStandardHelpOptions = true, description = "Set KEY to VALUE.")
  static final class Put implements Callable<Integer> {
    @ParentCommand
    KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY")
    String key;
    @Parameters(index = "1", paramLabel = "VALUE")
    String value;

    @Override
    public Integer call() {
      kv.withClient(c -> {
        c.put(bytes(key), bytes(value));
        return null;
      });
      kv.spec.commandLine().getOut().println("OK");
      return 0;
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true,
      description = "Print KEY's value; exit code 1 if the key is absent.")
  static final class Get implements Callable<Integer> {
    @ParentCommand
    KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Override
    public Integer call() {
      byte[] v = kv.withClient(c -> c.get(bytes(key)));
      if (v == null) {
        kv.spec.commandLine().getErr().println("(not found) " + key);
        return 1;
      }
      kv.spec.commandLine().getOut().println(new String(v, UTF_8));
      return 0;
    }
  }

  @Command(name = "del", aliases = "delete", mixinStandardHelpOptions = true, description = "Delete KEY.")
  static final class Del implements Callable<Integer> {
    @ParentCommand
    KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Override
    public Integer call() {
      kv.withClient(c -> {
        c.delete(bytes(key));
        return null;
      });
      kv.spec.commandLine().getOut().println("OK");
      return 0;
    }
  }

  @Command(name = "scan", mixinStandardHelpOptions = true,
      description = "Print KEY<TAB>VALUE lines in [--from, --to), in key order (or reversed).")
  static final class Scan implements Callable<Integer> {
    @ParentCommand
    KvCommand kv;
    @Option(names = "--from", defaultValue = "", description = "First key (default: the beginning).")
    String from;
    @Option(names = "--to", defaultValue = "", description = "End key, excluded (default: the end).")
    String to;
    @Option(names = "--limit", defaultValue = "100", description = "At most this many (default: ${DEFAULT-VALUE}; 0: all).")
    int limit;
    @Option(names = "--reverse", description = "Descending key order.")
    boolean reverse;

    @Override
    public Integer call() {
      if (limit < 0) {
        throw new ParameterException(kv.spec.commandLine(), "--limit: must be >= 0, got " + limit);
      }
      PrintWriter out = kv.spec.commandLine().getOut();
      int n = kv.withClient(c -> {
        int count = 0;
        Iterable<KvEntry> it = reverse ? c.reverseScan(bytes(from), bytes(to), limit)
            : c.scan(bytes(from), bytes(to), limit);
        for (KvEntry e : it) {
          out.println(e.keyUtf8() + "\t" + e.valueUtf8());
          count++;
        }
        return count;
      });
      out.flush();
      kv.spec.commandLine().getErr().println("(" + n + " keys)");
      return 0;
    }
  }

  @Command(name = "cas", mixinStandardHelpOptions = true,
      description = {"Set KEY to NEW only if its value is EXPECTED; '-' as EXPECTED means absent, as NEW",
          "means delete. Exit code 1 (and the current value on stderr) if it was not set."})
  static final class Cas implements Callable<Integer> {
    @ParentCommand
    KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY")
    String key;
    @Parameters(index = "1", paramLabel = "EXPECTED")
    String expected;
    @Parameters(index = "2", paramLabel = "NEW")
    String newValue;

    @Override
    public Integer call() {
      byte[] exp = "-".equals(expected) ? null : bytes(expected);
      byte[] nv = "-".equals(newValue) ? null : bytes(newValue);
      CasResult r = kv.withClient(c -> c.compareAndSet(bytes(key), exp, nv));
      if (r.succeeded()) {
        kv.spec.commandLine().getOut().println("OK");
        return 0;
      }
      byte[] cur = r.current();
      kv.spec.commandLine().getErr().println("not set: the current value is "
          + (cur == null ? "absent" : "'" + new String(cur, UTF_8) + "'"));
      return 1;
    }
  }
}
