package io.flotilla.router.cache;

import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The regions a router knows, sorted by start key, answering "which region holds key k" without
 * asking PD. Entries never overlap: inserting a region drops every entry it overlaps. It is repaired
 * from the errors stores answer with (see {@code RegionCall}): a leader hint moves the leader, an
 * epoch mismatch replaces the entry with the store's current regions, a region the store does not
 * know is dropped and reloaded from PD.
 *
 * <p>A region is refused when the cache holds the same region id with a newer epoch: PD learns of
 * a split after the stores do, so its answer may be older than what a store already told us.
 *
 * <p>Threads: any thread. Reads are lock-free; writes are serialized on the cache's monitor, so a
 * reader sees each region either before or after a change, and may briefly miss a range being
 * replaced (it then asks PD, which is harmless).
 */
public final class RegionCache {

  private final ConcurrentSkipListMap<byte[], CachedRegion> byStart =
      new ConcurrentSkipListMap<>(Keys.ORDER);
  private final ConcurrentHashMap<Long, CachedRegion> byId = new ConcurrentHashMap<>();

  /** The cached region holding {@code key}, or {@code null}. */
  public CachedRegion find(byte[] key) {
    Map.Entry<byte[], CachedRegion> e = byStart.floorEntry(key);
    if (e == null || !e.getValue().contains(key)) {
      return null;
    }
    return e.getValue();
  }

  /**
   * The cached region holding the keys just below {@code cursor} (exclusive; empty: plus
   * infinity), or {@code null}: where a reverse scan continues.
   */
  public CachedRegion findBefore(byte[] cursor) {
    Map.Entry<byte[], CachedRegion> e =
        cursor.length == 0 ? byStart.lastEntry() : byStart.lowerEntry(cursor);
    if (e == null || !e.getValue().holdsKeysBefore(cursor)) {
      return null;
    }
    return e.getValue();
  }

  public CachedRegion byId(long regionId) {
    return byId.get(regionId);
  }

  /**
   * Caches {@code region} with {@code leader} (null: unknown; the cached leader is kept if it is
   * still one of the region's peers), dropping the entries it overlaps.
   *
   * @return the cached entry, or {@code null} if refused as older than the cached one
   */
  public synchronized CachedRegion put(Region region, Peer leader) {
    CachedRegion old = byId.get(region.getId());
    if (old != null && old.isNewerThan(region)) {
      return null;
    }
    if (leader == null && old != null && old.leader() != null) {
      CachedRegion probe = new CachedRegion(region, null);
      leader = probe.peerOnStore(old.leader().getStoreId());
    }
    CachedRegion fresh = new CachedRegion(region, leader);
    if (old != null) {
      remove(old);
    }
    for (CachedRegion overlapped : overlapping(fresh.startKey(), fresh.endKey())) {
      remove(overlapped);
    }
    byStart.put(fresh.startKey(), fresh);
    byId.put(fresh.id(), fresh);
    return fresh;
  }

  /** Moves region {@code regionId}'s leader to {@code leader}, if the region is cached. */
  public synchronized void updateLeader(long regionId, Peer leader) {
    CachedRegion old = byId.get(regionId);
    if (old != null) {
      CachedRegion fresh = old.withLeader(leader);
      byStart.put(fresh.startKey(), fresh);
      byId.put(regionId, fresh);
    }
  }

  /**
   * A request to {@code tried} failed without a leader hint (unreachable store, no leader known):
   * believe the next voter leads, so the next attempt tries it.
   */
  public synchronized void tryNextPeer(long regionId, Peer tried) {
    CachedRegion old = byId.get(regionId);
    if (old != null && tried != null) {
      updateLeader(regionId, old.voterAfter(tried));
    }
  }

  /**
   * A store answered EpochNotMatch with {@code current}: its regions now covering what the request
   * addressed. They replace the stale entries; the peer on the answering store is taken as their
   * leader (a split's halves start with their leaders together). With nothing current, the stale
   * region is dropped and will be reloaded from PD.
   */
  public synchronized void onEpochNotMatch(long staleRegionId, List<Region> current,
      long answeringStoreId) {
    boolean replaced = false;
    for (Region r : current) {
      CachedRegion probe = new CachedRegion(r, null);
      if (put(r, probe.peerOnStore(answeringStoreId)) != null && r.getId() == staleRegionId) {
        replaced = true;
      }
    }
    if (!replaced) {
      CachedRegion stale = byId.get(staleRegionId);
      if (stale != null && current.stream().noneMatch(r -> r.getId() == staleRegionId)) {
        remove(stale);
      }
    }
  }

  /** Drops region {@code regionId}: the next request for its keys asks PD. */
  public synchronized void invalidate(long regionId) {
    CachedRegion old = byId.get(regionId);
    if (old != null) {
      remove(old);
    }
  }

  public synchronized void clear() {
    byStart.clear();
    byId.clear();
  }

  public int size() {
    return byId.size();
  }

  /** The cached regions in key order. */
  public List<CachedRegion> regions() {
    return new ArrayList<>(byStart.values());
  }

  private List<CachedRegion> overlapping(byte[] start, byte[] end) {
    List<CachedRegion> out = new ArrayList<>();
    Map.Entry<byte[], CachedRegion> first = byStart.lowerEntry(start);
    if (first != null && Keys.beforeEnd(start, first.getValue().endKey())) {
      out.add(first.getValue());
    }
    for (CachedRegion r : byStart.tailMap(start, true).values()) {
      if (!Keys.beforeEnd(r.startKey(), end)) {
        break;
      }
      out.add(r);
    }
    return out;
  }

  private void remove(CachedRegion r) {
    byStart.remove(r.startKey(), r);
    byId.remove(r.id(), r);
  }
}
