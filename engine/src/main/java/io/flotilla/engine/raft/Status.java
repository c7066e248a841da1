package io.flotilla.engine.raft;

import io.flotilla.engine.raft.tracker.Progress;
import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of one member's state for operators and tests. {@code progress} is filled on the
 * leader only (copies, safe to keep).
 */
public record Status(
    long id,
    HardState hardState,
    SoftState softState,
    long applied,
    long lastIndex,
    long leadTransferee,
    ConfState confState,
    Map<Long, Progress> progress) {

  static Status of(Raft r) {
    Map<Long, Progress> progress = new TreeMap<>();
    if (r.state == StateType.LEADER) {
      r.trk.visit((id, pr) -> progress.put(id, pr.copy()));
    }
    return new Status(
        r.id,
        r.hardState(),
        r.softState(),
        r.raftLog.applied,
        r.raftLog.lastIndex(),
        r.leadTransferee,
        r.trk.confState(),
        progress);
  }
}
