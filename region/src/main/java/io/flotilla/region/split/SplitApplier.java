package io.flotilla.region.split;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.AdminResponse;
import io.flotilla.engine.proto.EpochNotMatch;
import io.flotilla.engine.proto.KeyNotInRegion;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.SplitRequest;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.region.peer.KeyRange;
import java.util.ArrayList;
import java.util.List;

/**
 * The pure part of applying {@link SplitRequest}: validation and the two resulting regions, and
 * the initial Raft state every replica gives the new region's group.
 *
 * <p>A new group starts as if it had installed a snapshot at {@link #INIT_INDEX} / {@link
 * #INIT_TERM} with the new peers as members (TiKV's {@code RAFT_INIT_LOG_INDEX}): every replica
 * creates it identically from the split entry, so they agree without a snapshot, and a replica that
 * gets no split entry (it was added later, or it lags behind a compaction) is sent a real snapshot.
 *
 * <p>Stateless.
 */
public final class SplitApplier {
  public static final long INIT_INDEX = 5;
  public static final long INIT_TERM = 5;

  /** The outcome of a valid split: the parent as it shrinks ({@code left}) and the new region. */
  public record Split(Region left, Region right) {}

  private SplitApplier() {}

  /** An error answer if the split cannot apply to {@code region}; null if it can. */
  public static AdminResponse check(Region region, RequestContext ctx, SplitRequest req, List<Region> current) {
    RegionEpoch e = region.getEpoch();
    if (ctx.getEpoch().getVersion() != e.getVersion() || ctx.getEpoch().getConfVer() != e.getConfVer()) {
      return AdminResponse.newBuilder().setError(KvError.newBuilder()
          .setMessage("split of region " + region.getId() + " proposed at epoch " + ctx.getEpoch()
              .getVersion() + "/" + ctx.getEpoch().getConfVer() + ", region is at " + e.getVersion() + "/"
              + e.getConfVer())
          .setEpochNotMatch(EpochNotMatch.newBuilder().addAllCurrentRegions(current))).build();
    }
    if (io.flotilla.region.peer.Membership.isJoint(region)) {
      // NB: a new region made now would need the joint conf state, which its peers' roles cannot
      // say unambiguously; PD retries once the joint configuration is left.
      return AdminResponse.newBuilder().setError(KvError.newBuilder()
          .setMessage("region " + region.getId() + " is in a joint configuration; split it after it is left"))
          .build();
    }
    byte[] key = req.getSplitKey().toByteArray();
    byte[] start = region.getStartKey().toByteArray();
    if (key.length == 0 || KeyRange.compare(key, start) <= 0 || !KeyRange.contains(region, key)) {
      return AdminResponse.newBuilder().setError(KvError.newBuilder()
          .setMessage("split key must be strictly inside region " + region.getId())
          .setKeyNotInRegion(KeyNotInRegion.newBuilder().setKey(ByteString.copyFrom(key)).setRegionId(region.getId())
              .setStartKey(region.getStartKey()).setEndKey(region.getEndKey()))).build();
    }
    if (req.getNewPeerIdsCount() != region.getPeersCount() || req.getNewRegionId() == 0) {
      return AdminResponse.newBuilder().setError(KvError.newBuilder()
          .setMessage("split of region " + region.getId() + " needs a new region id and " + region.getPeersCount()
              + " new peer ids, got region " + req.getNewRegionId() + " and " + req.getNewPeerIdsCount())).build();
    }
    return null;
  }

  public static Split split(Region region, SplitRequest req) {
    long version = region.getEpoch().getVersion() + 1;
    RegionEpoch epoch = region.getEpoch().toBuilder().setVersion(version).build();
    Region left = region.toBuilder().setEndKey(req.getSplitKey()).setEpoch(epoch).build();
    Region.Builder right = Region.newBuilder().setId(req.getNewRegionId()).setStartKey(req.getSplitKey())
        .setEndKey(region.getEndKey()).setEpoch(epoch);
    for (int i = 0; i < region.getPeersCount(); i++) {
      Peer p = region.getPeers(i);
      right.addPeers(Peer.newBuilder().setId(req.getNewPeerIds(i)).setStoreId(p.getStoreId()).setRole(p.getRole()));
    }
    return new Split(left, right.build());
  }

  /** The membership of a region's group as its peers' roles say. */
  public static ConfState confState(Region region) {
    List<Long> voters = new ArrayList<>();
    List<Long> learners = new ArrayList<>();
    List<Long> outgoing = new ArrayList<>();
    List<Long> learnersNext = new ArrayList<>();
    for (Peer p : region.getPeersList()) {
      PeerRole role = p.getRole();
      switch (role) {
        case PEER_ROLE_LEARNER -> learners.add(p.getId());
        case PEER_ROLE_INCOMING_VOTER -> voters.add(p.getId());
        case PEER_ROLE_DEMOTING_VOTER -> {
          outgoing.add(p.getId());
          learnersNext.add(p.getId());
        }
        default -> {
          voters.add(p.getId());
          outgoing.add(p.getId());
        }
      }
    }
    boolean joint = region.getPeersList().stream().anyMatch(
        p -> p.getRole() == PeerRole.PEER_ROLE_INCOMING_VOTER || p.getRole() == PeerRole.PEER_ROLE_DEMOTING_VOTER);
    return new ConfState(voters, learners, joint ? outgoing : List.of(), learnersNext, false);
  }

  public static SnapshotMetadata initialSnapshot(Region region) {
    return new SnapshotMetadata(confState(region), INIT_INDEX, INIT_TERM);
  }

  public static HardState initialHardState() {
    return new HardState(INIT_TERM, 0, INIT_INDEX);
  }
}
