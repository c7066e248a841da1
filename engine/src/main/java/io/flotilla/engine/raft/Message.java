package io.flotilla.engine.raft;

import java.util.List;

/**
 * A Raft message between two members of one group. Immutable; build one with {@link #builder}.
 *
 * <p>{@code logTerm}/{@code index} describe the entry preceding {@code entries} in APP, or the
 * candidate's last entry in VOTE/PRE_VOTE. In a rejected APP_RESP, {@code rejectHint} is the
 * follower's last index and {@code logTerm} the term at the hint (fast backtracking, etcd style).
 */
public record Message(
    MessageType type,
    long to,
    long from,
    long term,
    long logTerm,
    long index,
    List<Entry> entries,
    long commit,
    Snapshot snapshot,
    boolean reject,
    long rejectHint,
    byte[] context) {

  private static final byte[] NO_CONTEXT = new byte[0];

  public Message {
    if (type == null) {
      throw new IllegalArgumentException("message type is required");
    }
    entries = entries == null ? List.of() : entries;
    context = context == null ? NO_CONTEXT : context;
  }

  public static Builder builder(MessageType type) {
    return new Builder(type);
  }

  public Builder toBuilder() {
    return new Builder(type)
        .to(to)
        .from(from)
        .term(term)
        .logTerm(logTerm)
        .index(index)
        .entries(entries)
        .commit(commit)
        .snapshot(snapshot)
        .reject(reject)
        .rejectHint(rejectHint)
        .context(context);
  }

  /** Total bytes of entry payload this message carries. */
  public long entriesSize() {
    long size = 0;
    for (Entry e : entries) {
      size += e.size();
    }
    return size;
  }

  @Override
  public String toString() {
    StringBuilder sb =
        new StringBuilder()
            .append(type)
            .append(' ')
            .append(from)
            .append("->")
            .append(to)
            .append(" t")
            .append(term);
    if (logTerm != 0 || index != 0) {
      sb.append(" lt").append(logTerm).append(" i").append(index);
    }
    if (commit != 0) {
      sb.append(" c").append(commit);
    }
    if (!entries.isEmpty()) {
      sb.append(" ").append(entries);
    }
    if (snapshot != null) {
      sb.append(" snap@").append(snapshot.index()).append('/').append(snapshot.term());
    }
    if (reject) {
      sb.append(" reject hint=").append(rejectHint);
    }
    return sb.toString();
  }

  /** Fluent builder for {@link Message}. */
  public static final class Builder {
    private final MessageType type;
    private long to;
    private long from;
    private long term;
    private long logTerm;
    private long index;
    private List<Entry> entries = List.of();
    private long commit;
    private Snapshot snapshot;
    private boolean reject;
    private long rejectHint;
    private byte[] context;

    private Builder(MessageType type) {
      this.type = type;
    }

    public Builder to(long v) {
      to = v;
      return this;
    }

    public Builder from(long v) {
      from = v;
      return this;
    }

    public Builder term(long v) {
      term = v;
      return this;
    }

    public Builder logTerm(long v) {
      logTerm = v;
      return this;
    }

    public Builder index(long v) {
      index = v;
      return this;
    }

    public Builder entries(List<Entry> v) {
      entries = v;
      return this;
    }

    public Builder commit(long v) {
      commit = v;
      return this;
    }

    public Builder snapshot(Snapshot v) {
      snapshot = v;
      return this;
    }

    public Builder reject(boolean v) {
      reject = v;
      return this;
    }

    public Builder rejectHint(long v) {
      rejectHint = v;
      return this;
    }

    public Builder context(byte[] v) {
      context = v;
      return this;
    }

    public Message build() {
      return new Message(
          type, to, from, term, logTerm, index, entries, commit, snapshot, reject, rejectHint, context);
    }
  }
}
