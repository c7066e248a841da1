package io.flotilla.region.storage;

import java.nio.charset.StandardCharsets;

/**
 * The column families of a node's RocksDB. Later features add families here; {@link NodeStorage}
 * creates missing ones on open and refuses a directory holding a family this build does not know.
 * The three transaction families ({@link #LOCK}, {@link #WRITE}, {@link #VERSION}) hold
 * memcomparable-encoded user keys (layout in {@code region.txn.MvccKeys}), so a region
 * {@code [start, end)} is {@code [mc(start), mc(end))} in each of them.
 *
 * <p>Who writes what: {@link #RAFT} only through the typed operations of {@link StorageBatch}; the
 * other families also through {@link StorageBatch#put}, {@link StorageBatch#delete} and
 * {@link StorageBatch#deleteRange}, except the storage's own keys there (see {@link Keys}).
 */
public enum Cf {
  /** RocksDB's own family: node-level records of other layers and the storage format version. */
  DEFAULT("default"),
  /** Raft logs, hard states and apply states of all groups (layout in {@link Keys}). */
  RAFT("raft"),
  /** User keys as they are; regions on one node never overlap. */
  DATA("data"),
  /** Per-group local state: the storage's membership/snapshot record and region layer records. */
  META("meta"),
  /** Transactions: the lock of a key being written ({@code mc(key)} to a {@code txn.Lock}). */
  LOCK("lock"),
  /** Transactions: commit and rollback records ({@code mc(key) ++ ~commit_ts} to a {@code txn.Write}). */
  WRITE("write"),
  /** Transactions: the values ({@code mc(key) ++ ~start_ts} to the value written at start_ts). */
  VERSION("version");

  /** The families of the transactional key space, in the order a snapshot carries them. */
  public static final java.util.List<Cf> TXN = java.util.List.of(LOCK, WRITE, VERSION);

  /** Whether this family holds transactional (memcomparable-encoded) keys. */
  public boolean isTxn() {
    return this == LOCK || this == WRITE || this == VERSION;
  }

  private final String familyName;

  Cf(String familyName) {
    this.familyName = familyName;
  }

  /** The RocksDB column family name. */
  public String familyName() {
    return familyName;
  }

  byte[] nameBytes() {
    return familyName.getBytes(StandardCharsets.UTF_8);
  }

  /** The family called {@code name}, or null if this build does not know it. */
  public static Cf named(String name) {
    return byName(name.getBytes(StandardCharsets.UTF_8));
  }

  /** The family called {@code name}, or null if this build does not know it. */
  static Cf byName(byte[] name) {
    String s = new String(name, StandardCharsets.UTF_8);
    for (Cf cf : values()) {
      if (cf.familyName.equals(s)) {
        return cf;
      }
    }
    return null;
  }
}
