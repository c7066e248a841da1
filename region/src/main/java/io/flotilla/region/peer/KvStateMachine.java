package io.flotilla.region.peer;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.flotilla.engine.proto.AdminRequest;
import io.flotilla.engine.proto.AdminResponse;
import io.flotilla.engine.proto.EpochNotMatch;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.RaftCommand;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionNotFound;
import io.flotilla.engine.proto.StaleSequence;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.engine.proto.txn.TxnCommandResponse;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.UnavailableException;
import io.flotilla.region.driver.StateMachine;
import io.flotilla.region.snapshot.RegionSnapshots;
import io.flotilla.region.snapshot.SnapshotData;
import io.flotilla.region.split.SplitApplier;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvReader;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.txn.TxnApplier;
import io.flotilla.region.txn.TxnOverlay;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine of every region on a store: applies {@link RaftCommand}s to {@link Cf#DATA}
 * (raw writes) and to the transaction families (transaction commands, {@link TxnApplier}) through
 * the driver's batch, so data, de-duplication table and applied index become durable
 * together (exactly-once apply).
 *
 * <p>Per entry:
 *
 * <ol>
 *   <li>the epoch in the command's context is checked again: a write whose {@code version}
 *       differs from the region's (it was proposed before a split) is not applied and answers
 *       EpochNotMatch with the current regions; an admin command needs version and conf_ver equal;
 *   <li>de-duplication (writes with {@code client_id} and {@code seq} not 0): the region keeps, per
 *       client, the answers of the applied seqs at or above a floor ({@link DedupEntry}); the floor
 *       follows the client's {@code min_pending_seq} (the oldest write it still waits for), so a
 *       client may have many writes in flight. A seq with a stored answer gets it without being
 *       applied again; a seq below the floor is not applied and answers StaleSequence; any other
 *       seq applies and records its answer (in the same batch);
 *   <li>the write applies atomically ({@link WriteApplier}), seeing the writes of earlier entries
 *       of this call ({@link WriteOverlay}), which are in the batch but not yet in storage;
 *       a transaction command likewise sees the transaction commands before it ({@link TxnOverlay},
 *       made only in a call that has one).
 * </ol>
 *
 * <p>Results handed back to proposers (the class they name to the driver): {@link WriteResponse}
 * for writes, {@link TxnCommandResponse} for transaction commands, {@link AdminResponse} for admin commands and membership changes, null for empty
 * entries and entries that are not a {@link RaftCommand}.
 *
 * <p>Reads go through a {@link KvReader} and writes through the batch, so the state machine runs
 * on the node's RocksDB or, in tests, on {@link io.flotilla.region.storage.MemoryKv} (without
 * snapshots, which are SST files).
 *
 * <p>Threads: the driver calls each group on one thread at a time (see {@link StateMachine}).
 */
public final class KvStateMachine implements StateMachine<Message> {
  private static final Logger LOG = LoggerFactory.getLogger(KvStateMachine.class);

  private final RegionHost host;
  private final KvReader reader;
  /** Null in a state machine that neither builds nor restores snapshots (tests over MemoryKv). */
  private final RegionSnapshots snapshots;
  private final WriteApplier writes;
  private final MembershipApplier membership;

  public KvStateMachine(RegionHost host, KvReader reader, RegionSnapshots snapshots) {
    this.host = host;
    this.reader = reader;
    this.snapshots = snapshots;
    this.writes = new WriteApplier(reader);
    this.membership = new MembershipApplier(host);
  }

  /** A state machine without snapshots: {@link #snapshot} and {@link #restore} throw (tests). */
  KvStateMachine(RegionHost host, KvReader reader) {
    this(host, reader, null);
  }

  @Override
  public List<Message> apply(long groupId, List<Entry> entries, StorageBatch batch) {
    return apply(groupId, entries, null, batch);
  }

  /** {@code proposed}: the leader's own proposals arrive as the {@link RaftCommand} they were encoded from. */
  @Override
  public List<Message> apply(long groupId, List<Entry> entries, List<Object> proposed, StorageBatch batch) {
    RegionPeer peer = host.peer(groupId);
    List<Message> results = new ArrayList<>(entries.size());
    WriteOverlay overlay = new WriteOverlay(null);
    PendingSessions sessions = new PendingSessions();
    TxnOverlay txn = null;
    try {
      for (int i = 0; i < entries.size(); i++) {
        Entry e = entries.get(i);
        if (e.data().length == 0) {
          results.add(null);
          continue;
        }
        RaftCommand cmd = proposed == null ? null : (RaftCommand) proposed.get(i);
        if (cmd == null) {
          try {
            cmd = RaftCommand.parseFrom(e.data());
          } catch (InvalidProtocolBufferException ex) {
            // NB: every replica skips it alike, so the replicas stay identical.
            LOG.error("[region={}] entry {} is not a RaftCommand; skipped: {}", groupId, e.index(), ex.getMessage());
            results.add(null);
            continue;
          }
        }
        if (peer == null || peer.region() == null) {
          LOG.error("[region={}] entry {} committed on a replica without region meta; skipped", groupId, e.index());
          KvError missing = regionNotFound(groupId);
          results.add(cmd.hasAdmin() ? AdminResponse.newBuilder().setError(missing).build()
              : cmd.hasTxn() ? TxnApplier.regionError(cmd.getTxn(), missing)
              : WriteResponse.newBuilder().setError(missing).build());
          continue;
        }
        switch (cmd.getCmdCase()) {
          case WRITE -> results.add(applyWrite(peer, cmd, overlay, sessions, batch));
          case ADMIN -> {
            // NB: an admin command reads (a split copies) the sessions: they must be current.
            sessions.save(peer, batch);
            results.add(applyAdmin(peer, cmd, batch));
          }
          case TXN -> {
            if (txn == null) {
              txn = TxnOverlay.root(reader);
            }
            results.add(applyTxn(peer, cmd, txn, batch));
          }
          default -> results.add(null);
        }
      }
    } finally {
      if (txn != null) {
        txn.close();
      }
    }
    if (peer != null) {
      sessions.save(peer, batch);
    }
    return results;
  }

  private WriteResponse applyWrite(RegionPeer peer, RaftCommand cmd, WriteOverlay overlay, PendingSessions sessions,
      StorageBatch batch) {
    Region region = peer.region();
    if (cmd.getContext().getEpoch().getVersion() != region.getEpoch().getVersion()) {
      return WriteResponse.newBuilder().setError(epochNotMatch(peer, cmd)).build();
    }
    WriteRequest req = cmd.getWrite();
    long client = req.getClientId();
    long seq = req.getSeq();
    boolean dedup = client != 0 && seq != 0;
    DedupEntry.Builder session = dedup ? sessions.get(peer, client) : null;
    if (session != null) {
      WriteResponse answered = session.answer(seq);
      if (answered != null) {
        return answered;
      }
      if (seq < session.floor()) {
        return WriteResponse.newBuilder().setError(KvError.newBuilder().setMessage(
            "stale sequence: client " + client + " seq " + seq + " is below " + session.floor()
                + ", the oldest write of this client region " + region.getId()
                + " still remembers; not applied (the client no longer waits for it)")
            .setStaleSequence(StaleSequence.newBuilder().setClientId(client).setSeq(seq)
                .setFloor(session.floor()))).build();
      }
    }
    WriteResponse resp = writes.apply(peer, req, overlay, batch);
    if (dedup && !resp.hasError()) {
      sessions.add(peer, client, seq, resp, req.getMinPendingSeq());
    }
    return resp;
  }

  private TxnCommandResponse applyTxn(RegionPeer peer, RaftCommand cmd, TxnOverlay txn, StorageBatch batch) {
    Region region = peer.region();
    if (cmd.getContext().getEpoch().getVersion() != region.getEpoch().getVersion()) {
      return TxnApplier.regionError(cmd.getTxn(), epochNotMatch(peer, cmd));
    }
    TxnApplier.Applied a = TxnApplier.apply(region, cmd.getTxn(), txn, batch);
    if (a.keys() > 0) {
      peer.bytesWritten.addAndGet(a.bytes());
      peer.keysWritten.addAndGet(a.keys());
      if (peer.approximateSize.get() >= 0) {
        peer.approximateSize.addAndGet(a.bytes());
        peer.approximateKeys.addAndGet(a.keys());
      }
    }
    return a.response();
  }

  private AdminResponse applyAdmin(RegionPeer peer, RaftCommand cmd, StorageBatch batch) {
    AdminRequest admin = cmd.getAdmin();
    if (admin.getCmdCase() != AdminRequest.CmdCase.SPLIT) {
      // CompactLog: the driver compacts logs itself; nothing to do.
      return AdminResponse.getDefaultInstance();
    }
    Region region = peer.region();
    AdminResponse refused = SplitApplier.check(region, cmd.getContext(), admin.getSplit(), host.currentRegions(peer));
    if (refused != null) {
      return refused;
    }
    SplitApplier.Split split = SplitApplier.split(region, admin.getSplit());
    Region left = split.left();
    Region right = split.right();
    batch.put(Cf.META, RegionRecords.regionKey(left.getId()),
        RegionRecords.encodeRegion(RegionPeer.State.NORMAL, peer.peerId(), left));
    peer.setRegion(left);
    peer.setApproximate(-1, -1);
    peer.splitChildren.add(right.getId());
    Peer mine = null;
    for (Peer p : right.getPeersList()) {
      if (p.getStoreId() == host.storeId()) {
        mine = p;
      }
    }
    if (mine != null && host.reserveSplitChild(right.getId())) {
      // De-duplication entries are copied to the new region: a client retrying a write after the
      // split may be routed to either half, and both must answer it as before.
      Map<Long, DedupEntry> dedupCopy = new HashMap<>(peer.dedup);
      batch.createGroup(right.getId(), SplitApplier.confState(right));
      batch.applySnapshot(right.getId(), SplitApplier.initialSnapshot(right));
      batch.setHardState(right.getId(), SplitApplier.initialHardState());
      batch.setApplied(right.getId(), SplitApplier.INIT_INDEX);
      batch.put(Cf.META, RegionRecords.regionKey(right.getId()),
          RegionRecords.encodeRegion(RegionPeer.State.NORMAL, mine.getId(), right));
      for (Map.Entry<Long, DedupEntry> d : dedupCopy.entrySet()) {
        batch.put(Cf.META, RegionRecords.dedupKey(right.getId(), d.getKey()), RegionRecords.encodeDedup(d.getValue()));
      }
      RegionPeer child = new RegionPeer(right.getId(), mine.getId(), RegionPeer.State.NORMAL, right, dedupCopy);
      boolean campaign = host.isLeader(peer.regionId());
      batch.onWritten(() -> host.onSplitWritten(peer, child, campaign));
    } else if (mine != null) {
      LOG.info("{} split: region {} already has a replica here; it will be initialized by a snapshot", peer,
          right.getId());
    }
    LOG.info("{} split at version {}: [{}] and region {} [{}]", peer, left.getEpoch().getVersion(),
        rangeString(left), right.getId(), rangeString(right));
    return AdminResponse.newBuilder().addRegions(left).addRegions(right).build();
  }

  /**
   * A ready snapshot of the region built off the poller ({@link RegionSnapshots#request}): the
   * first ask starts the build and answers {@link UnavailableException}, a later one gets its
   * descriptor (which names the SST file the transport streams).
   */
  @Override
  public io.flotilla.engine.raft.Snapshot snapshot(long groupId, SnapshotMetadata appliedNow) {
    RegionPeer peer = host.peer(groupId);
    if (peer == null || peer.region() == null) {
      // NB: not fatal: the core retries a snapshot that is unavailable for now.
      throw new UnavailableException("region " + groupId + " has no initialized replica on this store to snapshot");
    }
    SnapshotData d = snapshots().request(groupId, appliedNow, peer.region(), new HashMap<>(peer.dedup));
    return new io.flotilla.engine.raft.Snapshot(d.encode(), d.metadata());
  }

  /** Membership changes: the region meta follows the conf state in the same batch ({@link MembershipApplier}). */
  @Override
  public AdminResponse applyConfChange(long groupId, io.flotilla.engine.raft.ConfChange change,
      io.flotilla.engine.raft.ConfState after, long index, StorageBatch batch) {
    return membership.apply(groupId, change, after, index, batch);
  }

  /**
   * Ingests the snapshot's received SST file ({@link RegionSnapshots#ingest}: its marker, the range
   * delete, the ingest), on the driver's restore worker: the replica is not serving meanwhile.
   */
  @Override
  public void prepareRestore(long groupId, byte[] data) {
    if (host.peer(groupId) == null) {
      throw new IllegalStateException("region " + groupId + ": snapshot for a replica this store does not host");
    }
    snapshots().ingest(groupId, SnapshotData.decode(data));
  }

  /** Records the ingested snapshot: region record, de-duplication table, marker gone; in {@code batch}. */
  @Override
  public void restore(long groupId, byte[] data, StorageBatch batch) {
    RegionPeer peer = host.peer(groupId);
    if (peer == null) {
      throw new IllegalStateException("region " + groupId + ": snapshot for a replica this store does not host");
    }
    SnapshotData snap = SnapshotData.decode(data);
    RegionSnapshots.writeRecords(batch, groupId, peer.peerId(), snap);
    snapshots().finish(groupId, snap, batch);
    peer.dedup.clear();
    peer.dedup.putAll(snap.dedup());
    peer.setRegion(snap.region());
    peer.setApproximate(-1, -1);
    host.onSnapshotRestored(groupId);
    LOG.info("{} restored snapshot at index {} [{}] ({} bytes of SST, ingested off the poller)", peer,
        snap.metadata().index(), rangeString(snap.region()), snap.sstBytes());
  }

  private RegionSnapshots snapshots() {
    if (snapshots == null) {
      throw new IllegalStateException("this state machine was made without snapshots (a test's)");
    }
    return snapshots;
  }

  private KvError epochNotMatch(RegionPeer peer, RaftCommand cmd) {
    Region r = peer.region();
    return KvError.newBuilder()
        .setMessage("region " + r.getId() + " is at version " + r.getEpoch().getVersion() + ", command was proposed at "
            + cmd.getContext().getEpoch().getVersion())
        .setEpochNotMatch(EpochNotMatch.newBuilder().addAllCurrentRegions(host.currentRegions(peer))).build();
  }

  static KvError regionNotFound(long regionId) {
    return KvError.newBuilder().setMessage("region " + regionId + " is not on this store")
        .setRegionNotFound(RegionNotFound.newBuilder().setRegionId(regionId)).build();
  }

  static String rangeString(Region r) {
    return hex(r.getStartKey().toByteArray()) + ", " + hex(r.getEndKey().toByteArray()) + ")";
  }

  private static String hex(byte[] k) {
    StringBuilder sb = new StringBuilder();
    for (byte b : k) {
      if (b >= 0x20 && b < 0x7f) {
        sb.append((char) b);
      } else {
        sb.append(String.format("\\x%02x", b & 0xff));
      }
    }
    return sb.toString();
  }
}
