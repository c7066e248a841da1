package io.flotilla.region.peer;

import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This store's replica of one region: its meta, local state and bookkeeping.
 *
 * <table>
 *   <caption>States</caption>
 *   <tr><th>state</th><th>region</th><th>serves requests</th></tr>
 *   <tr><td>uninitialized</td><td>null (created for a message of a region it did not hold; gets
 *       range and data from the leader's snapshot)</td><td>no (RegionNotFound)</td></tr>
 *   <tr><td>normal</td><td>set</td><td>yes</td></tr>
 *   <tr><td>tombstone</td><td>last known</td><td>no; its group is not started</td></tr>
 * </table>
 *
 * <p>Threads: {@link #region()} and the statistics may be read from any thread; the region, the
 * de-duplication table and the state change only on the thread applying the group's entries.
 */
public final class RegionPeer {
  /** Local state persisted with the region record. */
  public enum State { NORMAL, TOMBSTONE }

  private final long regionId;
  private final long peerId;
  private volatile Region region;
  /** The region's peers as (peer id, store id) pairs, flattened: routing reads it per message. */
  private volatile long[] peerStores;
  private volatile State state;
  /** Apply thread only. */
  final Map<Long, DedupEntry> dedup;
  /** Regions split off this one since this store started (for EpochNotMatch answers). */
  final List<Long> splitChildren = new CopyOnWriteArrayList<>();
  /** Approximate bytes and keys of the region's data; -1: unknown, to be scanned. */
  final AtomicLong approximateSize = new AtomicLong(-1);
  final AtomicLong approximateKeys = new AtomicLong(-1);
  /** Written since the last region heartbeat. */
  final AtomicLong bytesWritten = new AtomicLong();
  final AtomicLong keysWritten = new AtomicLong();
  /** Apply thread only: the applied region version at which a split was last proposed. */
  volatile long splitProposedAtVersion = -1;
  private final long createdNanos = System.nanoTime();

  public RegionPeer(long regionId, long peerId, State state, Region region, Map<Long, DedupEntry> dedup) {
    this.regionId = regionId;
    this.peerId = peerId;
    this.state = state;
    this.region = region;
    this.peerStores = peerStores(region);
    this.dedup = new HashMap<>(dedup);
  }

  private static long[] peerStores(Region r) {
    if (r == null) {
      return new long[0];
    }
    long[] out = new long[2 * r.getPeersCount()];
    for (int i = 0; i < r.getPeersCount(); i++) {
      out[2 * i] = r.getPeers(i).getId();
      out[2 * i + 1] = r.getPeers(i).getStoreId();
    }
    return out;
  }

  /** The store of peer {@code id} of this region as last applied here, or 0 if it has no such peer. */
  public long storeOf(long id) {
    long[] ps = peerStores;
    for (int i = 0; i < ps.length; i += 2) {
      if (ps[i] == id) {
        return ps[i + 1];
      }
    }
    return 0;
  }

  public long regionId() {
    return regionId;
  }

  /** This store's peer id in the region's group. */
  public long peerId() {
    return peerId;
  }

  /** The region as last applied here, or null while uninitialized. */
  public Region region() {
    return region;
  }

  public State state() {
    return state;
  }

  public boolean initialized() {
    return region != null;
  }

  /**
   * This replica is no longer a member (removed by a conf change, or found stale): it stops
   * serving at once; its record and data follow.
   */
  public void markTombstone() {
    this.state = State.TOMBSTONE;
  }

  /** {@link System#nanoTime} when this object was made (its replica created or loaded). */
  public long createdNanos() {
    return createdNanos;
  }

  void setRegion(Region r) {
    this.peerStores = peerStores(r);
    this.region = r;
  }

  public long approximateSize() {
    return approximateSize.get();
  }

  public long approximateKeys() {
    return approximateKeys.get();
  }

  /** Sets the size estimate (from a scan). */
  public void setApproximate(long bytes, long keys) {
    approximateSize.set(bytes);
    approximateKeys.set(keys);
  }

  /** Bytes and keys written since the previous call (for region heartbeats). */
  public long[] takeWritten() {
    return new long[] {bytesWritten.getAndSet(0), keysWritten.getAndSet(0)};
  }

  public List<Long> splitChildren() {
    return List.copyOf(splitChildren);
  }

  public long splitProposedAtVersion() {
    return splitProposedAtVersion;
  }

  public void markSplitProposed(long version) {
    splitProposedAtVersion = version;
  }

  /** The peer of this region on {@code storeId}, or null. */
  public Peer peerOnStore(long storeId) {
    Region r = region;
    if (r == null) {
      return null;
    }
    for (Peer p : r.getPeersList()) {
      if (p.getStoreId() == storeId) {
        return p;
      }
    }
    return null;
  }

  /** The peer with id {@code peerId}, or null. */
  public Peer peer(long id) {
    Region r = region;
    if (r == null) {
      return null;
    }
    for (Peer p : r.getPeersList()) {
      if (p.getId() == id) {
        return p;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    Region r = region;
    return "[region=" + regionId + " peer=" + peerId
        + (r == null ? " uninitialized" : " v=" + r.getEpoch().getVersion() + " cv=" + r.getEpoch().getConfVer())
        + "]";
  }
}
