package io.flotilla.tools.ctl;

import io.flotilla.engine.proto.OperatorInfo;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.SchedulerInfo;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * PD's answers as ctl shows them: JSON objects (snake_case fields, as in pd.proto) and the
 * per-thing detail blocks of the {@code show} commands. Tables are built by the commands.
 */
final class Views {
  private Views() {}

  /** "up", "down", or "-" for a tombstone (no longer expected to heartbeat). */
  static String health(StoreInfo s) {
    return s.getStore().getState() == StoreState.STORE_STATE_TOMBSTONE ? "-"
        : s.getDown() ? "down" : "up";
  }

  // ------------------------------------------------------------------ stores

  static Map<String, Object> json(StoreInfo info) {
    Store s = info.getStore();
    StoreStats st = info.getStats();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.getId());
    m.put("address", s.getAddress());
    m.put("state", Format.state(s.getState()));
    m.put("down", info.getDown());
    m.put("labels", new TreeMap<>(s.getLabelsMap()));
    m.put("version", s.getVersion());
    m.put("start_time_ms", s.getStartTimeMs());
    m.put("last_heartbeat_ms", info.getLastHeartbeatMs());
    m.put("region_count", (long) st.getRegionCount());
    m.put("leader_count", (long) st.getLeaderCount());
    m.put("capacity_bytes", st.getCapacityBytes());
    m.put("used_bytes", st.getUsedBytes());
    m.put("available_bytes", st.getAvailableBytes());
    m.put("sending_snapshots", (long) st.getSendingSnapshots());
    m.put("receiving_snapshots", (long) st.getReceivingSnapshots());
    return m;
  }

  static Table.Details details(StoreInfo info, long nowMs) {
    Store s = info.getStore();
    StoreStats st = info.getStats();
    StringJoiner labels = new StringJoiner(", ");
    new TreeMap<>(s.getLabelsMap()).forEach((k, v) -> labels.add(k + "=" + v));
    return new Table.Details()
        .add("store", s.getId())
        .add("address", s.getAddress())
        .add("state", Format.state(s.getState()))
        .add("health", health(info))
        .add("last heartbeat", Format.ago(info.getLastHeartbeatMs(), nowMs))
        .add("started", Format.ago(s.getStartTimeMs(), nowMs))
        .add("version", s.getVersion().isEmpty() ? "-" : s.getVersion())
        .add("labels", labels.length() == 0 ? "-" : labels.toString())
        .add("regions", st.getRegionCount())
        .add("leaders", st.getLeaderCount())
        .add("capacity", Format.bytes(st.getCapacityBytes()))
        .add("used", Format.bytes(st.getUsedBytes()))
        .add("available", Format.bytes(st.getAvailableBytes()))
        .add("snapshots", st.getSendingSnapshots() + " sending, " + st.getReceivingSnapshots() + " receiving");
  }

  // ------------------------------------------------------------------ regions

  /** The store of the region's leader, or "-" when PD knows none. */
  static String leaderStore(RegionInfo r) {
    return r.hasLeader() ? Long.toString(r.getLeader().getStoreId()) : "-";
  }

  static String peers(Region r) {
    StringJoiner j = new StringJoiner(" ");
    for (Peer p : r.getPeersList()) {
      j.add(Format.peer(p));
    }
    return j.toString();
  }

  static String epoch(Region r) {
    return r.getEpoch().getVersion() + "/" + r.getEpoch().getConfVer();
  }

  static Map<String, Object> json(RegionInfo info) {
    Region r = info.getRegion();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.getId());
    m.put("start_key", r.getStartKey().isEmpty() ? "" : Format.key(r.getStartKey().toByteArray()));
    m.put("end_key", r.getEndKey().isEmpty() ? "" : Format.key(r.getEndKey().toByteArray()));
    m.put("start_key_hex", Format.hex(r.getStartKey()));
    m.put("end_key_hex", Format.hex(r.getEndKey()));
    Map<String, Object> epoch = new LinkedHashMap<>();
    epoch.put("version", r.getEpoch().getVersion());
    epoch.put("conf_ver", r.getEpoch().getConfVer());
    m.put("epoch", epoch);
    m.put("leader", info.hasLeader() ? json(info.getLeader()) : null);
    List<Object> peers = new ArrayList<>();
    for (Peer p : r.getPeersList()) {
      peers.add(json(p));
    }
    m.put("peers", peers);
    m.put("approximate_size", info.getApproximateSize());
    m.put("approximate_keys", info.getApproximateKeys());
    return m;
  }

  static Map<String, Object> json(Peer p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", p.getId());
    m.put("store_id", p.getStoreId());
    m.put("role", Format.role(p.getRole()));
    return m;
  }

  static Table.Details details(RegionInfo info) {
    Region r = info.getRegion();
    return new Table.Details()
        .add("region", r.getId())
        .add("start key", Format.startKey(r.getStartKey()))
        .add("end key", Format.endKey(r.getEndKey()))
        .add("epoch", "version " + r.getEpoch().getVersion() + ", conf_ver " + r.getEpoch().getConfVer())
        .add("leader", info.hasLeader() ? "peer " + info.getLeader().getId() + " on store "
            + info.getLeader().getStoreId() : "unknown")
        .add("approx size", Format.bytes(info.getApproximateSize()))
        .add("approx keys", info.getApproximateKeys());
  }

  // ------------------------------------------------------------------ operators and schedulers

  static Map<String, Object> json(OperatorInfo op) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", op.getId());
    m.put("region_id", op.getRegionId());
    m.put("kind", Format.kind(op.getKind()));
    m.put("origin", op.getOrigin());
    m.put("description", op.getDescription());
    m.put("steps", new ArrayList<>(op.getStepsList()));
    m.put("current_step", (long) op.getCurrentStep());
    m.put("state", Format.state(op.getState()));
    m.put("created_ms", op.getCreatedMs());
    m.put("timeout_ms", op.getTimeoutMs());
    m.put("reason", op.getReason());
    return m;
  }

  static Table.Details details(OperatorInfo op, long nowMs) {
    Table.Details d = new Table.Details()
        .add("operator", op.getId())
        .add("region", op.getRegionId())
        .add("kind", Format.kind(op.getKind()))
        .add("origin", op.getOrigin())
        .add("description", op.getDescription())
        .add("state", Format.state(op.getState()))
        .add("created", Format.ago(op.getCreatedMs(), nowMs))
        .add("timeout", op.getTimeoutMs() > 0 ? Format.duration(op.getTimeoutMs()) : "-");
    if (!op.getReason().isEmpty()) {
      d.add("reason", op.getReason());
    }
    for (int i = 0; i < op.getStepsCount(); i++) {
      String mark = i < op.getCurrentStep() ? "done" : i == op.getCurrentStep() ? "now" : "";
      d.add("step " + (i + 1), op.getSteps(i) + (mark.isEmpty() ? "" : "  (" + mark + ")"));
    }
    return d;
  }

  static String step(OperatorInfo op) {
    int n = op.getStepsCount();
    return n == 0 ? "-" : Math.min(op.getCurrentStep() + 1, n) + "/" + n;
  }

  static Map<String, Object> json(SchedulerInfo s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", s.getName());
    m.put("enabled", s.getEnabled());
    m.put("settings", new TreeMap<>(s.getSettingsMap()));
    m.put("description", s.getDescription());
    return m;
  }

  static String settings(SchedulerInfo s) {
    StringJoiner j = new StringJoiner(" ");
    new TreeMap<>(s.getSettingsMap()).forEach((k, v) -> j.add(k + "=" + v));
    return j.length() == 0 ? "-" : j.toString();
  }

  static <T> List<Object> jsonList(List<T> items, Function<T, Map<String, Object>> f) {
    List<Object> out = new ArrayList<>();
    for (T t : items) {
      out.add(f.apply(t));
    }
    return out;
  }
}
