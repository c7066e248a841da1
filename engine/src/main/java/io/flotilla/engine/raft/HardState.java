package io.flotilla.engine.raft;

/** What a node must persist before it answers anyone: current term, vote in it, commit index. */
public record HardState(long term, long vote, long commit) {
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public boolean isEmpty() {
    return term == 0 && vote == 0 && commit == 0;
  }

  /** Whether this equals {@code (term, vote, commit)}, without building one. */
  boolean sameAs(long term, long vote, long commit) {
    return this.term == term && this.vote == vote && this.commit == commit;
  }
}
