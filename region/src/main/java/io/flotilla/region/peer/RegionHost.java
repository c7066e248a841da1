package io.flotilla.region.peer;

import io.flotilla.engine.proto.Region;

/**
 * What the KV state machine needs from the store hosting it. Called on the thread applying a
 * group's entries unless said otherwise.
 */
public interface RegionHost {
  /** This store's id. */
  long storeId();

  /** The replica of {@code regionId} on this store, or null. */
  RegionPeer peer(long regionId);

  /** The regions this store holds that the router should learn about with {@code region}. */
  java.util.List<Region> currentRegions(RegionPeer peer);

  /**
   * Reserves {@code regionId} for a group a split creates here; false if the store already has a
   * replica of it (an uninitialized one created by a message of the new leader; it will get a
   * snapshot) or one is being created.
   */
  boolean reserveSplitChild(long regionId);

  /** Whether this store's replica of {@code regionId} leads it (as of its last round). */
  boolean isLeader(long regionId);

  /**
   * A split was made durable (called on the applying thread after the batch was written): start
   * the new region's group; {@code campaign} if this replica led the parent.
   */
  void onSplitWritten(RegionPeer parent, RegionPeer child, boolean campaign);

  /**
   * A membership change of a region this replica stays in was made durable (applying thread,
   * after the batch was written): e.g. a leader reports the region to PD at once. Must not block.
   */
  void onMembershipChanged(RegionPeer peer);

  /**
   * A membership change removing this replica was made durable with its TOMBSTONE record
   * (applying thread, after the batch was written): destroy the group and delete the region's
   * data. Must not block.
   */
  void onPeerRemoved(RegionPeer peer);

  /** A snapshot of the region was restored here (the group's thread, in the round that records it). */
  void onSnapshotRestored(long regionId);
}
