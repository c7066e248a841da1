package io.flotilla.region.peer;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.AdminResponse;
import io.flotilla.engine.proto.ChangePeerRequest;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.raft.ConfChange;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.StorageBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a committed membership change to a replica's region meta, in the batch that records the
 * conf change itself (see {@link Membership} for how the meta follows the conf state):
 *
 * <ul>
 *   <li>still a member: the new region record (peers, roles, conf_ver) replaces the old one; after
 *       the batch is durable the host hears of it ({@link RegionHost#onMembershipChanged}: a leader
 *       reports to PD at once);
 *   <li>removed: the replica stops serving at once (state tombstone in memory), the batch records
 *       the region as TOMBSTONE with this peer id and drops its de-duplication table; after the
 *       batch is durable the host destroys the group and deletes the region's data
 *       ({@link RegionHost#onPeerRemoved}). A crash in between leaves the TOMBSTONE record with the
 *       group's Raft state, which the store cleans up when it starts.
 * </ul>
 *
 * <p>The thread applying the group's entries.
 */
final class MembershipApplier {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipApplier.class);

  private final RegionHost host;

  MembershipApplier(RegionHost host) {
    this.host = host;
  }

  AdminResponse apply(long groupId, ConfChange change, ConfState after, long index, StorageBatch batch) {
    RegionPeer peer = host.peer(groupId);
    if (peer == null || peer.region() == null) {
      LOG.error("[region={}] conf change at {} applied on a replica without region meta; meta not updated",
          groupId, index);
      return AdminResponse.newBuilder().setError(KvStateMachine.regionNotFound(groupId)).build();
    }
    ChangePeerRequest ctx = ChangePeerRequest.getDefaultInstance();
    if (change.context().length > 0) {
      try {
        ctx = ChangePeerRequest.parseFrom(change.context());
      } catch (InvalidProtocolBufferException e) {
        LOG.error("{} conf change at {} has a context that is not a ChangePeerRequest; ignored: {}", peer, index,
            e.getMessage());
      }
    }
    Region before = peer.region();
    Region region = Membership.after(before, change, after, ctx);
    if (region == before) {
      LOG.info("{} conf change at {} left the membership as it was ({}): refused by the Raft core", peer, index,
          change);
      return AdminResponse.newBuilder().addRegions(before).setError(KvError.newBuilder()
          .setMessage("membership change " + change.changes() + " had no effect on region " + groupId)).build();
    }
    if (ctx.getConfVerAfter() != 0 && ctx.getConfVerAfter() != region.getEpoch().getConfVer()) {
      LOG.warn("{} conf change at {} was planned for conf_ver {}, applied as {}", peer, index, ctx.getConfVerAfter(),
          region.getEpoch().getConfVer());
    }
    peer.setRegion(region);
    if (Membership.peer(region, peer.peerId()) != null) {
      batch.put(Cf.META, RegionRecords.regionKey(groupId),
          RegionRecords.encodeRegion(RegionPeer.State.NORMAL, peer.peerId(), region));
      batch.onWritten(() -> host.onMembershipChanged(peer));
      LOG.info("{} membership changed at index {}: {}", peer, index, describe(region));
    } else {
      peer.markTombstone();
      peer.dedup.clear();
      batch.put(Cf.META, RegionRecords.regionKey(groupId),
          RegionRecords.encodeRegion(RegionPeer.State.TOMBSTONE, peer.peerId(), region));
      batch.deleteRange(Cf.META, RegionRecords.dedupStart(groupId), RegionRecords.dedupEnd(groupId));
      batch.onWritten(() -> host.onPeerRemoved(peer));
      LOG.info("{} removed from its region at index {} (now {}): tombstoned, its group and data go", peer, index,
          describe(region));
    }
    return AdminResponse.newBuilder().addRegions(region).build();
  }

  static String describe(Region r) {
    StringBuilder sb = new StringBuilder("conf_ver=").append(r.getEpoch().getConfVer()).append(" peers=[");
    r.getPeersList().forEach(p -> sb.append(' ').append(p.getId()).append('@').append(p.getStoreId())
        .append(':').append(p.getRole().name().substring("PEER_ROLE_".length())));
    return sb.append(" ]").toString();
  }
}
