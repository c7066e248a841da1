package io.flotilla.router.cache;

import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import java.util.List;

/**
 * A region as the router last saw it: its meta (id, range, epoch, peers) and the peer it believes
 * leads it ({@code null}: not known, try the first voter). Immutable; a leader change is a new
 * instance.
 *
 * <p>The key arrays are shared, not copied: callers must not modify them.
 */
public final class CachedRegion {

  private final Region meta;
  private final byte[] startKey;
  private final byte[] endKey;
  private final Peer leader;

  public CachedRegion(Region meta, Peer leader) {
    this.meta = meta;
    this.startKey = meta.getStartKey().toByteArray();
    this.endKey = meta.getEndKey().toByteArray();
    this.leader = leader;
  }

  private CachedRegion(CachedRegion from, Peer leader) {
    this.meta = from.meta;
    this.startKey = from.startKey;
    this.endKey = from.endKey;
    this.leader = leader;
  }

  public long id() {
    return meta.getId();
  }

  public Region meta() {
    return meta;
  }

  public RegionEpoch epoch() {
    return meta.getEpoch();
  }

  /** Inclusive; empty: minus infinity. */
  public byte[] startKey() {
    return startKey;
  }

  /** Exclusive; empty: plus infinity. */
  public byte[] endKey() {
    return endKey;
  }

  public List<Peer> peers() {
    return meta.getPeersList();
  }

  /** The believed leader, or {@code null}. */
  public Peer leader() {
    return leader;
  }

  public boolean contains(byte[] key) {
    return Keys.compare(startKey, key) <= 0 && Keys.beforeEnd(key, endKey);
  }

  /**
   * Whether this region holds the keys just below {@code cursor} (an exclusive upper bound; empty:
   * plus infinity): the region a reverse scan continues in.
   */
  public boolean holdsKeysBefore(byte[] cursor) {
    if (cursor.length == 0) {
      return endKey.length == 0;
    }
    return Keys.compare(startKey, cursor) < 0 && Keys.endCovers(endKey, cursor);
  }

  /** The peer to send to: the leader if known, else the first voter, else the first peer. */
  public Peer target() {
    if (leader != null) {
      return leader;
    }
    for (Peer p : peers()) {
      if (isVoter(p)) {
        return p;
      }
    }
    return peers().isEmpty() ? null : peers().get(0);
  }

  /** The voter after {@code peer} in peer order (wrapping), or the first voter if it is not one. */
  public Peer voterAfter(Peer peer) {
    List<Peer> peers = peers();
    int at = -1;
    for (int i = 0; i < peers.size(); i++) {
      if (peers.get(i).getId() == peer.getId()) {
        at = i;
        break;
      }
    }
    for (int step = 1; step <= peers.size(); step++) {
      Peer p = peers.get(Math.floorMod(at + step, peers.size()));
      if (isVoter(p)) {
        return p;
      }
    }
    return peer;
  }

  /** This region's peer on {@code storeId}, or {@code null}. */
  public Peer peerOnStore(long storeId) {
    for (Peer p : peers()) {
      if (p.getStoreId() == storeId) {
        return p;
      }
    }
    return null;
  }

  public CachedRegion withLeader(Peer newLeader) {
    return new CachedRegion(this, newLeader);
  }

  /** Whether {@code other}'s epoch is older than this one's in either component. */
  public boolean isNewerThan(Region other) {
    RegionEpoch mine = epoch();
    RegionEpoch theirs = other.getEpoch();
    return mine.getVersion() > theirs.getVersion() || mine.getConfVer() > theirs.getConfVer();
  }

  private static boolean isVoter(Peer p) {
    return p.getRole() != PeerRole.PEER_ROLE_LEARNER;
  }

  @Override
  public String toString() {
    return "region " + id() + " [" + Keys.describe(startKey) + ", " + Keys.describe(endKey)
        + ") epoch=" + epoch().getVersion() + "/" + epoch().getConfVer() + " leader="
        + (leader == null ? "?" : "peer " + leader.getId() + "@store " + leader.getStoreId());
  }
}
