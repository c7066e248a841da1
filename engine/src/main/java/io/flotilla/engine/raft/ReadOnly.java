package io.flotilla.engine.raft;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ReadIndex requests a leader is confirming (Raft thesis §6.4): each waits for a quorum to
 * acknowledge a heartbeat that carries its context. Requests are confirmed in order: an
 * acknowledgement of a later request confirms every earlier one.
 */
final class ReadOnly {
  /** A read waiting for confirmation: the commit index when it arrived, and who acked it. */
  static final class Status {
    final Message req;
    final long index;
    final Set<Long> acks = new HashSet<>();

    Status(Message req, long index) {
      this.req = req;
      this.index = index;
    }
  }

  private final Map<ByteBuffer, Status> pending = new HashMap<>();
  private final Deque<ByteBuffer> queue = new ArrayDeque<>();

  /** Queues a read of {@code m} (whose first entry's data is the context) at commit index. */
  void addRequest(long index, Message m) {
    ByteBuffer ctx = ByteBuffer.wrap(m.entries().get(0).data());
    if (pending.containsKey(ctx)) {
      return;
    }
    pending.put(ctx, new Status(m, index));
    queue.addLast(ctx);
  }

  /** Records an ack of {@code ctx} by {@code id}; returns who has acked it so far, or null. */
  Set<Long> recvAck(long id, byte[] context) {
    Status rs = pending.get(ByteBuffer.wrap(context));
    if (rs == null) {
      return null;
    }
    rs.acks.add(id);
    return rs.acks;
  }

  /** Removes and returns every request up to and including {@code ctx}, oldest first. */
  List<Status> advance(byte[] context) {
    ByteBuffer ctx = ByteBuffer.wrap(context);
    if (!pending.containsKey(ctx)) {
      return List.of();
    }
    List<Status> done = new ArrayList<>();
    while (!queue.isEmpty()) {
      ByteBuffer head = queue.pollFirst();
      done.add(pending.remove(head));
      if (head.equals(ctx)) {
        break;
      }
    }
    return done;
  }

  /** The context of the newest pending request, or null. */
  byte[] lastPendingRequestCtx() {
    ByteBuffer last = queue.peekLast();
    return last == null ? null : last.array();
  }

  int pendingCount() {
    return queue.size();
  }
}
