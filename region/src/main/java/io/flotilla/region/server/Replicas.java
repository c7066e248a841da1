package io.flotilla.region.server;

import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.region.peer.RegionPeer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The store's registry of replicas: what its readers need (the KV service, heartbeats, split and
 * stale checks, the inbound filter) and nothing they could change. Only {@link StoreControl}
 * changes it, on its loop, with one exception: a split being applied reserves its new region's id
 * ({@link #reserve}) on the applying thread, so that a message of the new region's leader and the
 * split cannot both create the replica.
 *
 * <p>Threads: reads from any thread (concurrent maps; a reader may see a replica one change old);
 * the mutators are package-private and called by the control loop, {@link #reserve} and
 * {@link #release} by whoever creates.
 */
final class Replicas {
  /** Where a replica removed from its region stood when it was removed; durable (see {@link StoreControl}). */
  record Tombstone(long peerId, RegionEpoch epoch) {}

  private final Map<Long, RegionPeer> peers = new ConcurrentHashMap<>();
  private final Map<Long, Tombstone> tombstones = new ConcurrentHashMap<>();
  /** Peer id to store id, learned from incoming messages (for peers not in a region's meta yet). */
  private final Map<Long, Long> learnedPeers = new ConcurrentHashMap<>();
  /** Region ids whose replica is being created here (from a message, a split or bootstrap). */
  private final Set<Long> reserved = ConcurrentHashMap.newKeySet();

  /** The replica of {@code regionId} here, or null. */
  RegionPeer get(long regionId) {
    return peers.get(regionId);
  }

  /** Every replica here (initialized or not), a copy. */
  List<RegionPeer> all() {
    return new ArrayList<>(peers.values());
  }

  boolean isEmpty() {
    return peers.isEmpty();
  }

  /** The tombstone of {@code regionId} here, or null. */
  Tombstone tombstone(long regionId) {
    return tombstones.get(regionId);
  }

  int tombstoneCount() {
    return tombstones.size();
  }

  /** The store of a peer learned from its messages, or 0. */
  long learnedStore(long peerId) {
    Long s = learnedPeers.get(peerId);
    return s == null ? 0 : s;
  }

  void learn(long peerId, long storeId) {
    learnedPeers.putIfAbsent(peerId, storeId);
  }

  /** Claims the creation of {@code regionId}'s replica; false if one exists or is being created. */
  boolean reserve(long regionId) {
    if (peers.containsKey(regionId) || !reserved.add(regionId)) {
      return false;
    }
    if (peers.containsKey(regionId)) { // registered between the two checks
      reserved.remove(regionId);
      return false;
    }
    return true;
  }

  boolean isReserved(long regionId) {
    return reserved.contains(regionId);
  }

  void release(long regionId) {
    reserved.remove(regionId);
  }

  // ------------------------------------------------------------------ the control loop only

  void put(RegionPeer p) {
    peers.put(p.regionId(), p);
    tombstones.remove(p.regionId());
  }

  void remove(RegionPeer p) {
    peers.remove(p.regionId(), p);
  }

  void tombstoned(RegionPeer p, Tombstone t) {
    tombstones.put(p.regionId(), t);
    peers.remove(p.regionId(), p);
  }

  void loadTombstone(long regionId, Tombstone t) {
    tombstones.put(regionId, t);
  }
}
