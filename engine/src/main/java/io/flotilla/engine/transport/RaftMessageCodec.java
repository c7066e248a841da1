package io.flotilla.engine.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.EntryType;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Converts between the core's {@link Message} (plus its group id) and the wire's {@code
 * io.flotilla.engine.proto.Message}. The round trip is exact: every field, including the snapshot
 * (present or absent) and the context.
 *
 * <p>Copies: encoding wraps the core's byte arrays without copying ({@link UnsafeByteOperations}),
 * which is sound because the core never writes into an entry's, snapshot's or context's array once
 * built. Decoding copies each byte field exactly once, out of the (possibly aliased, see {@link
 * Frames#parse}) frame buffer into a fresh array the core then owns; empty fields share one empty
 * array.
 *
 * <p>Local message types ({@link MessageType#isLocal()}) never cross the network; encoding one is a
 * programmer error. Decoding a type or entry type the core does not know throws {@link
 * IllegalArgumentException}, which the transport treats as a malformed frame.
 *
 * <p>Threads: stateless; any thread.
 */
public final class RaftMessageCodec {

  private RaftMessageCodec() {}

  /**
   * The wire form of {@code m} for group {@code groupId}.
   *
   * @throws IllegalArgumentException if {@code m} is of a local type
   */
  public static io.flotilla.engine.proto.Message toProto(long groupId, Message m) {
    io.flotilla.engine.proto.Message.Builder b =
        io.flotilla.engine.proto.Message.newBuilder()
            .setGroupId(groupId)
            .setType(toProto(m.type()))
            .setTo(m.to())
            .setFrom(m.from())
            .setTerm(m.term())
            .setLogTerm(m.logTerm())
            .setIndex(m.index())
            .setCommit(m.commit())
            .setReject(m.reject())
            .setRejectHint(m.rejectHint());
    List<Entry> entries = m.entries();
    for (int i = 0, n = entries.size(); i < n; i++) {
      b.addEntries(toProto(entries.get(i)));
    }
    if (m.snapshot() != null) {
      b.setSnapshot(toProto(m.snapshot()));
    }
    if (m.context().length > 0) {
      b.setContext(wrap(m.context()));
    }
    return b.build();
  }

  /** The core form of a wire message; its group id is {@code p.getGroupId()}. */
  public static Message fromProto(io.flotilla.engine.proto.Message p) {
    List<Entry> entries;
    int n = p.getEntriesCount();
    if (n == 0) {
      entries = List.of();
    } else {
      ArrayList<Entry> list = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        list.add(fromProto(p.getEntries(i)));
      }
      entries = Collections.unmodifiableList(list);
    }
    return new Message(
        fromProto(p.getType()),
        p.getTo(),
        p.getFrom(),
        p.getTerm(),
        p.getLogTerm(),
        p.getIndex(),
        entries,
        p.getCommit(),
        p.hasSnapshot() ? fromProto(p.getSnapshot()) : null,
        p.getReject(),
        p.getRejectHint(),
        bytes(p.getContext()));
  }

  /** The core form of a wire message, with its group id. */
  public static GroupMessage toGroupMessage(io.flotilla.engine.proto.Message p) {
    return new GroupMessage(p.getGroupId(), fromProto(p));
  }

  static io.flotilla.engine.proto.Entry toProto(Entry e) {
    io.flotilla.engine.proto.Entry.Builder b =
        io.flotilla.engine.proto.Entry.newBuilder()
            .setTerm(e.term())
            .setIndex(e.index())
            .setType(e.type() == EntryType.CONF_CHANGE
                ? io.flotilla.engine.proto.EntryType.ENTRY_CONF_CHANGE
                : io.flotilla.engine.proto.EntryType.ENTRY_NORMAL);
    if (e.data().length > 0) {
      b.setData(wrap(e.data()));
    }
    return b.build();
  }

  static Entry fromProto(io.flotilla.engine.proto.Entry p) {
    EntryType type =
        switch (p.getType()) {
          case ENTRY_NORMAL -> EntryType.NORMAL;
          case ENTRY_CONF_CHANGE -> EntryType.CONF_CHANGE;
          case UNRECOGNIZED -> throw new IllegalArgumentException(
              "unknown entry type " + p.getTypeValue() + " at index " + p.getIndex());
        };
    return new Entry(p.getTerm(), p.getIndex(), type, bytes(p.getData()));
  }

  static io.flotilla.engine.proto.Snapshot toProto(Snapshot s) {
    SnapshotMetadata md = s.metadata();
    io.flotilla.engine.proto.SnapshotMetadata.Builder mb =
        io.flotilla.engine.proto.SnapshotMetadata.newBuilder().setIndex(md.index()).setTerm(md.term());
    if (md.confState() != null) {
      mb.setConfState(toProto(md.confState()));
    }
    io.flotilla.engine.proto.Snapshot.Builder b =
        io.flotilla.engine.proto.Snapshot.newBuilder().setMetadata(mb);
    if (s.data().length > 0) {
      b.setData(wrap(s.data()));
    }
    return b.build();
  }

  static Snapshot fromProto(io.flotilla.engine.proto.Snapshot p) {
    io.flotilla.engine.proto.SnapshotMetadata md = p.getMetadata();
    ConfState cs = md.hasConfState() ? fromProto(md.getConfState()) : null;
    return new Snapshot(bytes(p.getData()), new SnapshotMetadata(cs, md.getIndex(), md.getTerm()));
  }

  static io.flotilla.engine.proto.ConfState toProto(ConfState cs) {
    return io.flotilla.engine.proto.ConfState.newBuilder()
        .addAllVoters(cs.voters())
        .addAllLearners(cs.learners())
        .addAllVotersOutgoing(cs.votersOutgoing())
        .addAllLearnersNext(cs.learnersNext())
        .setAutoLeave(cs.autoLeave())
        .build();
  }

  static ConfState fromProto(io.flotilla.engine.proto.ConfState p) {
    return new ConfState(
        p.getVotersList(),
        p.getLearnersList(),
        p.getVotersOutgoingList(),
        p.getLearnersNextList(),
        p.getAutoLeave());
  }

  static io.flotilla.engine.proto.MessageType toProto(MessageType t) {
    return switch (t) {
      case PROPOSE -> io.flotilla.engine.proto.MessageType.MSG_PROPOSE;
      case APP -> io.flotilla.engine.proto.MessageType.MSG_APP;
      case APP_RESP -> io.flotilla.engine.proto.MessageType.MSG_APP_RESP;
      case VOTE -> io.flotilla.engine.proto.MessageType.MSG_VOTE;
      case VOTE_RESP -> io.flotilla.engine.proto.MessageType.MSG_VOTE_RESP;
      case PRE_VOTE -> io.flotilla.engine.proto.MessageType.MSG_PRE_VOTE;
      case PRE_VOTE_RESP -> io.flotilla.engine.proto.MessageType.MSG_PRE_VOTE_RESP;
      case SNAPSHOT -> io.flotilla.engine.proto.MessageType.MSG_SNAPSHOT;
      case HEARTBEAT -> io.flotilla.engine.proto.MessageType.MSG_HEARTBEAT;
      case HEARTBEAT_RESP -> io.flotilla.engine.proto.MessageType.MSG_HEARTBEAT_RESP;
      case TRANSFER_LEADER -> io.flotilla.engine.proto.MessageType.MSG_TRANSFER_LEADER;
      case TIMEOUT_NOW -> io.flotilla.engine.proto.MessageType.MSG_TIMEOUT_NOW;
      case READ_INDEX -> io.flotilla.engine.proto.MessageType.MSG_READ_INDEX;
      case READ_INDEX_RESP -> io.flotilla.engine.proto.MessageType.MSG_READ_INDEX_RESP;
      case HUP, BEAT, UNREACHABLE, SNAP_STATUS, CHECK_QUORUM -> throw new IllegalArgumentException(
          "local message type " + t + " never crosses the network");
    };
  }

  static MessageType fromProto(io.flotilla.engine.proto.MessageType t) {
    return switch (t) {
      case MSG_PROPOSE -> MessageType.PROPOSE;
      case MSG_APP -> MessageType.APP;
      case MSG_APP_RESP -> MessageType.APP_RESP;
      case MSG_VOTE -> MessageType.VOTE;
      case MSG_VOTE_RESP -> MessageType.VOTE_RESP;
      case MSG_PRE_VOTE -> MessageType.PRE_VOTE;
      case MSG_PRE_VOTE_RESP -> MessageType.PRE_VOTE_RESP;
      case MSG_SNAPSHOT -> MessageType.SNAPSHOT;
      case MSG_HEARTBEAT -> MessageType.HEARTBEAT;
      case MSG_HEARTBEAT_RESP -> MessageType.HEARTBEAT_RESP;
      case MSG_TRANSFER_LEADER -> MessageType.TRANSFER_LEADER;
      case MSG_TIMEOUT_NOW -> MessageType.TIMEOUT_NOW;
      case MSG_READ_INDEX -> MessageType.READ_INDEX;
      case MSG_READ_INDEX_RESP -> MessageType.READ_INDEX_RESP;
      case MSG_UNKNOWN, UNRECOGNIZED -> throw new IllegalArgumentException(
          "unknown raft message type " + t);
    };
  }

  /** Wraps without copying; see the class comment for why that is sound. */
  private static ByteString wrap(byte[] b) {
    return UnsafeByteOperations.unsafeWrap(b);
  }

  /** One copy out of the frame; {@code null} (for the core's shared empty array) when empty. */
  private static byte[] bytes(ByteString s) {
    return s.isEmpty() ? null : s.toByteArray();
  }
}
