package io.flotilla.pd.operator;

import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What PD knows of one region when it decides: its meta, its leader (null when none was reported),
 * the peers its leader reported pending (behind, catching up by snapshot) or down, and its
 * approximate size.
 */
public record RegionView(Region region, Peer leader, Set<Long> pendingPeers, Set<Long> downPeers,
    long approximateSize) {

  public RegionView {
    pendingPeers = Set.copyOf(pendingPeers);
    downPeers = Set.copyOf(downPeers);
  }

  public static RegionView of(Region region, Peer leader) {
    return new RegionView(region, leader, Set.of(), Set.of(), 0);
  }

  public long id() {
    return region.getId();
  }

  public long version() {
    return region.getEpoch().getVersion();
  }

  public long confVer() {
    return region.getEpoch().getConfVer();
  }

  /** The peer with id {@code peerId}, or null. */
  public Peer peer(long peerId) {
    for (Peer p : region.getPeersList()) {
      if (p.getId() == peerId) {
        return p;
      }
    }
    return null;
  }

  /** The peer on {@code storeId}, or null. */
  public Peer peerOnStore(long storeId) {
    for (Peer p : region.getPeersList()) {
      if (p.getStoreId() == storeId) {
        return p;
      }
    }
    return null;
  }

  public long leaderStore() {
    return leader == null ? 0 : leader.getStoreId();
  }

  public boolean isLeader(long peerId) {
    return leader != null && leader.getId() == peerId;
  }

  /** Peers that vote in the current (non-joint) configuration or in the incoming one. */
  public List<Peer> voters() {
    List<Peer> out = new ArrayList<>();
    for (Peer p : region.getPeersList()) {
      if (p.getRole() == PeerRole.PEER_ROLE_VOTER || p.getRole() == PeerRole.PEER_ROLE_INCOMING_VOTER) {
        out.add(p);
      }
    }
    return out;
  }

  public List<Peer> learners() {
    List<Peer> out = new ArrayList<>();
    for (Peer p : region.getPeersList()) {
      if (p.getRole() == PeerRole.PEER_ROLE_LEARNER) {
        out.add(p);
      }
    }
    return out;
  }

  /** Whether a peer is incoming or demoting: the region is in a joint configuration. */
  public boolean inJoint() {
    for (Peer p : region.getPeersList()) {
      if (p.getRole() == PeerRole.PEER_ROLE_INCOMING_VOTER || p.getRole() == PeerRole.PEER_ROLE_DEMOTING_VOTER) {
        return true;
      }
    }
    return false;
  }

  /** Whether the peer is up to date: present, not pending, not down. */
  public boolean isHealthy(long peerId) {
    return peer(peerId) != null && !pendingPeers.contains(peerId) && !downPeers.contains(peerId);
  }
}
