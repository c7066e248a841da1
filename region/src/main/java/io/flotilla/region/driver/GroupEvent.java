package io.flotilla.region.driver;

import io.flotilla.engine.raft.ConfChange;
import io.flotilla.engine.raft.Message;
import java.util.concurrent.CompletableFuture;

/** What arrives in a group's mailbox; handled on the group's driving thread. */
sealed interface GroupEvent {
  record Inbound(Message message) implements GroupEvent {}

  /** {@code parsed}: what the proposer decoded {@code data} from, handed to the state machine with the entry (or null). */
  record Propose(byte[] data, Object parsed, Answer<?> result, long deadlineNanos) implements GroupEvent {}

  record ProposeConfChange(ConfChange change, Answer<?> result, long deadlineNanos) implements GroupEvent {}

  /** A linearizable read: completes with the index the state machine must have applied. */
  record Read(CompletableFuture<Long> result, long deadlineNanos) implements GroupEvent {}

  record TransferLeader(long toPeer) implements GroupEvent {}

  record Campaign() implements GroupEvent {}

  record SnapshotStatus(long toPeer, boolean success) implements GroupEvent {}

  record Unreachable(long peer) implements GroupEvent {}

  /** Asks a leader which peers need a snapshot (see {@link RaftDriver#pendingPeers}). */
  record PendingPeers(CompletableFuture<java.util.List<Long>> result) implements GroupEvent {}

  /** The leader's node looks dead: a hibernated follower starts ticking again. */
  record Wake() implements GroupEvent {}
}
