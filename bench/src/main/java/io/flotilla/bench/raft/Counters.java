package io.flotilla.bench.raft;

import java.util.List;

/**
 * Counters of one benchmark JVM: its nodes' storage, transport and state machines, its load
 * generator's errors, and the process's CPU time. Monotonic: take one at the start and one at the
 * end of a measurement and {@link #minus} them; {@link #plus} adds up several JVMs' deltas.
 *
 * @param entriesWritten log entries written by storage batches
 * @param batchesWritten storage batches written
 * @param fsyncs synced storage writes
 * @param framesSent Raft frames sent by the transports
 * @param messagesSent Raft messages sent by the transports (many per frame)
 * @param messagesDropped Raft messages the transports dropped because a send queue was full
 * @param applied entries applied by the state machines, all replicas
 * @param cpuNanos CPU time of the JVM process (all its threads)
 * @param notLeader proposals answered NotLeader (retried at the hinted leader)
 * @param dropped proposals dropped (retried)
 * @param unknown proposals whose outcome is unknown (timed out; not retried)
 */
record Counters(
    long entriesWritten,
    long batchesWritten,
    long fsyncs,
    long framesSent,
    long messagesSent,
    long messagesDropped,
    long applied,
    long cpuNanos,
    long notLeader,
    long dropped,
    long unknown) {

  static final Counters ZERO = new Counters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  static Counters cpu(long cpuNanos) {
    return new Counters(0, 0, 0, 0, 0, 0, 0, cpuNanos, 0, 0, 0);
  }

  static Counters errors(long notLeader, long dropped, long unknown) {
    return new Counters(0, 0, 0, 0, 0, 0, 0, 0, notLeader, dropped, unknown);
  }

  Counters plus(Counters o) {
    return new Counters(entriesWritten + o.entriesWritten, batchesWritten + o.batchesWritten,
        fsyncs + o.fsyncs, framesSent + o.framesSent, messagesSent + o.messagesSent,
        messagesDropped + o.messagesDropped, applied + o.applied,
        cpuNanos + o.cpuNanos, notLeader + o.notLeader, dropped + o.dropped, unknown + o.unknown);
  }

  Counters minus(Counters o) {
    return new Counters(entriesWritten - o.entriesWritten, batchesWritten - o.batchesWritten,
        fsyncs - o.fsyncs, framesSent - o.framesSent, messagesSent - o.messagesSent,
        messagesDropped - o.messagesDropped, applied - o.applied,
        cpuNanos - o.cpuNanos, notLeader - o.notLeader, dropped - o.dropped, unknown - o.unknown);
  }

  long errors() {
    return notLeader + dropped + unknown;
  }

  /** Space-separated, for the node process protocol. */
  String encode() {
    return entriesWritten + " " + batchesWritten + " " + fsyncs + " " + framesSent + " " + messagesSent + " "
        + messagesDropped + " " + applied + " " + cpuNanos + " " + notLeader + " " + dropped + " " + unknown;
  }

  static Counters decode(List<String> f) {
    if (f.size() != 11) {
      throw new IllegalArgumentException("expected 11 counters, got " + f);
    }
    long[] v = f.stream().mapToLong(Long::parseLong).toArray();
    return new Counters(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]);
  }
}
