package io.flotilla.engine.raft;

/** What a node must persist before it answers anyone: current term, vote in it, commit index. */
public record HardState(long term, long vote, long commit) {
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public boolean isEmpty() {
    return equals(EMPTY);
  }
}
