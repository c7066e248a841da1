package io.flotilla.engine.raft;

import java.util.List;

/**
 * What a group asks its driver to do, numbered so many groups' Readies can be persisted in one
 * batch and acknowledged together. The driver must, in this order:
 *
 * <ol>
 *   <li>send {@link #messages()} at once: they do not depend on this Ready being persisted (a
 *       leader's appends and heartbeats go out while its own fsync runs, Raft thesis §10.2.1);
 *   <li>persist {@link #hardState()} (if not null), {@link #entries()} (replacing any conflicting
 *       suffix) and {@link #snapshot()} (if not null) to the group's {@link Storage}, with an fsync
 *       when {@link #mustSync()};
 *   <li>only then send {@link #persistedMessages()}: acknowledgements and votes promise that
 *       the sender has persisted what they acknowledge;
 *   <li>apply {@link #committedEntries()} in order (they may include entries of this Ready, hence
 *       after persisting), and serve reads of {@link #readStates()} once applied up to their index;
 *   <li>call {@link RawNode#advance(Ready)}.
 * </ol>
 */
public record Ready(
    long number,
    SoftState softState,
    HardState hardState,
    List<ReadState> readStates,
    List<Entry> entries,
    Snapshot snapshot,
    List<Entry> committedEntries,
    List<Message> messages,
    List<Message> persistedMessages,
    boolean mustSync) {

  /** True if nothing must be persisted before {@link #persistedMessages()} go out. */
  public boolean nothingToPersist() {
    return hardState == null && entries.isEmpty() && snapshot == null;
  }
}
