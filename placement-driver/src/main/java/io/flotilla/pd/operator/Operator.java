package io.flotilla.pd.operator;

import io.flotilla.engine.proto.OperatorInfo;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.OperatorState;
import java.util.List;

/**
 * A sequence of {@link OpStep}s for one region, made by a scheduler, a checker or an admin, and
 * carried out by the region's leader one step at a time (see {@link OperatorController}).
 *
 * <table>
 *   <caption>States</caption>
 *   <tr><th>from</th><th>to</th><th>when</th></tr>
 *   <tr><td>RUNNING</td><td>FINISHED</td><td>a report of the region shows the last step's effect</td></tr>
 *   <tr><td>RUNNING</td><td>TIMED_OUT</td><td>{@code timeoutMs} after creation</td></tr>
 *   <tr><td>RUNNING</td><td>CANCELLED</td><td>an admin cancelled it, or an admin operator replaced it</td></tr>
 *   <tr><td>RUNNING</td><td>STALE</td><td>the region changed underneath it (split, a peer it needs gone,
 *       the region gone), or the peer it hands leadership to is reported down</td></tr>
 * </table>
 * Ended states are final.
 *
 * <p>Influence: while it runs, schedulers count the region as already where the operator takes it
 * ({@link #addsStore}, {@link #removesStore}, {@link #leaderToStore}), so one round does not pile
 * more work on a store than it will hold. Snapshot limits count it against {@link #receiveStore} and
 * {@link #sendStore} until its learner caught up.
 *
 * <p>Threads: guarded by its {@link OperatorController}; {@link #info} is a copy.
 */
public final class Operator {
  private final long id;
  private final long regionId;
  private final OperatorKind kind;
  private final String origin;
  private final String description;
  private final List<OpStep> steps;
  private final long regionVersion;
  private final long createdMs;
  private final long timeoutMs;
  private final long addsStore;
  private final long removesStore;
  private final long leaderToStore;
  private final long sendStore;
  private int current;
  private OperatorState state = OperatorState.OPERATOR_STATE_RUNNING;
  private String reason = "";
  private long endedMs;

  /**
   * @param regionVersion the region's version when the operator was made: any other version later
   *     makes it stale (a split operator finishes by changing it)
   * @param addsStore the store that gains a replica (receives a snapshot), 0 if none
   * @param removesStore the store that loses a replica, 0 if none
   * @param leaderToStore the store the leader moves to, 0 if the leader stays
   * @param sendStore the store expected to send the snapshot (the leader's), 0 if none
   */
  public Operator(long id, long regionId, OperatorKind kind, String origin, String description,
      List<OpStep> steps, long regionVersion, long createdMs, long timeoutMs, long addsStore, long removesStore,
      long leaderToStore, long sendStore) {
    if (steps.isEmpty()) {
      throw new IllegalStateException("operator " + id + " (" + description + ") has no steps");
    }
    this.id = id;
    this.regionId = regionId;
    this.kind = kind;
    this.origin = origin;
    this.description = description;
    this.steps = List.copyOf(steps);
    this.regionVersion = regionVersion;
    this.createdMs = createdMs;
    this.timeoutMs = timeoutMs;
    this.addsStore = addsStore;
    this.removesStore = removesStore;
    this.leaderToStore = leaderToStore;
    this.sendStore = sendStore;
  }

  public long id() {
    return id;
  }

  public long regionId() {
    return regionId;
  }

  public OperatorKind kind() {
    return kind;
  }

  public String origin() {
    return origin;
  }

  public String description() {
    return description;
  }

  public List<OpStep> steps() {
    return steps;
  }

  public long regionVersion() {
    return regionVersion;
  }

  public long createdMs() {
    return createdMs;
  }

  public long timeoutMs() {
    return timeoutMs;
  }

  public long addsStore() {
    return addsStore;
  }

  public long removesStore() {
    return removesStore;
  }

  public long leaderToStore() {
    return leaderToStore;
  }

  public long sendStore() {
    return sendStore;
  }

  public long receiveStore() {
    return addsStore;
  }

  public synchronized int currentStep() {
    return current;
  }

  public synchronized OperatorState state() {
    return state;
  }

  public synchronized String reason() {
    return reason;
  }

  synchronized long endedMs() {
    return endedMs;
  }

  /** Whether its snapshot is still to come: an AddLearner step at or after the current one. */
  synchronized boolean awaitsSnapshot() {
    for (int i = current; i < steps.size(); i++) {
      if (steps.get(i) instanceof OpStep.AddLearner) {
        return true;
      }
    }
    return false;
  }

  synchronized OpStep currentStepObject() {
    return current < steps.size() ? steps.get(current) : null;
  }

  synchronized void advance() {
    current++;
  }

  synchronized boolean isRunning() {
    return state == OperatorState.OPERATOR_STATE_RUNNING;
  }

  /** Ends it in {@code to}; false if it had ended already. */
  synchronized boolean end(OperatorState to, String why, long nowMs) {
    if (state != OperatorState.OPERATOR_STATE_RUNNING) {
      return false;
    }
    state = to;
    reason = why;
    endedMs = nowMs;
    return true;
  }

  public synchronized OperatorInfo info() {
    OperatorInfo.Builder b = OperatorInfo.newBuilder()
        .setId(id)
        .setRegionId(regionId)
        .setKind(kind)
        .setOrigin(origin)
        .setDescription(description)
        .setCurrentStep(current)
        .setState(state)
        .setCreatedMs(createdMs)
        .setTimeoutMs(timeoutMs)
        .setReason(reason);
    for (OpStep s : steps) {
      b.addSteps(s.describe());
    }
    return b.build();
  }

  @Override
  public synchronized String toString() {
    return "operator " + id + " (" + description + ") [region=" + regionId + " origin=" + origin + " step="
        + current + "/" + steps.size() + " state=" + state + "]";
  }
}
