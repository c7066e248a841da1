package io.flotilla.tools.ctl;

import io.flotilla.engine.Timestamps;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code flotilla ctl tso}: a fresh timestamp from PD's oracle, decoded. */
@Command(name = "tso", mixinStandardHelpOptions = true,
    description = {"A fresh timestamp from PD's oracle: the number, its physical part (ISO-8601, UTC, ms)",
        "and its logical part (physical_ms << 18 | logical)."})
final class CtlTsoCommand extends CtlLeaf {
  @ParentCommand
  CtlCommand ctl;

  @Override
  CtlCommand ctl() {
    return ctl;
  }

  @Override
  int run(AdminClient pd) {
    long ts = pd.timestamp();
    if (json()) {
      printJson(json(ts));
    } else {
      new Table.Details()
          .add("timestamp", Long.toUnsignedString(ts))
          .add("physical", Timestamps.physicalIso(ts))
          .add("logical", Timestamps.logical(ts))
          .print(out());
    }
    return 0;
  }

  static Map<String, Object> json(long ts) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("timestamp", ts);
    m.put("physical", Timestamps.physicalIso(ts));
    m.put("physical_ms", Timestamps.physicalMs(ts));
    m.put("logical", Timestamps.logical(ts));
    return m;
  }
}
