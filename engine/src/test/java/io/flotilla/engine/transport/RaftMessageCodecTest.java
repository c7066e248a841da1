package io.flotilla.engine.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.proto.Frame;
import io.flotilla.engine.proto.RaftBatch;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.EntryType;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The codec between the core's messages and the wire is exact. Seeded: a failure prints its seed,
 * and {@code -Dflotilla.seed=N} replays it.
 */
class RaftMessageCodecTest {

  private static final List<MessageType> WIRE_TYPES =
      Arrays.stream(MessageType.values()).filter(t -> !t.isLocal()).toList();

  @Test
  void randomMessagesRoundTripExactlyThroughTheCodec() {
    long seed = seed();
    Random random = new Random(seed);
    try {
      for (int i = 0; i < 2_000; i++) {
        long groupId = random.nextLong();
        Message m = randomMessage(random);
        io.flotilla.engine.proto.Message wire = RaftMessageCodec.toProto(groupId, m);
        GroupMessage back = RaftMessageCodec.toGroupMessage(
            io.flotilla.engine.proto.Message.parseFrom(wire.toByteArray()));
        assertThat(back.groupId()).isEqualTo(groupId);
        assertSame(back.message(), m);
      }
    } catch (Throwable t) {
      throw new AssertionError("failed with seed " + seed + " (replay: -Dflotilla.seed=" + seed
          + "): " + t.getMessage(), t);
    }
  }

  /**
   * Through the real frame path: encode into a pooled direct buffer, parse with aliasing, decode,
   * then overwrite and release the buffer. The decoded messages must not have kept any view of it.
   */
  @Test
  void decodedMessagesOwnTheirBytesAfterTheFrameBufferIsReleased() throws Exception {
    long seed = seed();
    Random random = new Random(seed);
    List<Message> sent = new ArrayList<>();
    RaftBatch.Builder batch = RaftBatch.newBuilder();
    for (int i = 0; i < 200; i++) {
      Message m = randomMessage(random);
      sent.add(m);
      batch.addMessages(RaftMessageCodec.toProto(i, m));
    }
    for (var alloc : List.of(PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT)) {
      ByteBuf buf = Frames.encode(alloc, Frames.frame().setRaftBatch(batch).build());
      int length = buf.readInt();
      assertThat(length).isEqualTo(buf.readableBytes());
      Frame frame = Frames.parse(buf);
      List<GroupMessage> received = new ArrayList<>();
      for (io.flotilla.engine.proto.Message p : frame.getRaftBatch().getMessagesList()) {
        received.add(RaftMessageCodec.toGroupMessage(p));
      }
      buf.setZero(0, buf.capacity());
      buf.release();
      try {
        for (int i = 0; i < sent.size(); i++) {
          assertThat(received.get(i).groupId()).isEqualTo(i);
          assertSame(received.get(i).message(), sent.get(i));
        }
      } catch (Throwable t) {
        throw new AssertionError("failed with seed " + seed + ": " + t.getMessage(), t);
      }
    }
  }

  @Test
  void encodingWrapsTheCoresArraysWithoutCopying() {
    byte[] data = {1, 2, 3};
    Message m = Message.builder(MessageType.APP).entries(List.of(Entry.normal(1, 1, data))).build();
    io.flotilla.engine.proto.Message wire = RaftMessageCodec.toProto(7, m);
    data[0] = 9; // the core never does this; here it shows that no copy was made
    assertThat(wire.getEntries(0).getData().byteAt(0)).isEqualTo((byte) 9);
  }

  @Test
  void absentAndEmptySnapshotsStayDistinct() {
    Message none = Message.builder(MessageType.APP).build();
    Message empty = Message.builder(MessageType.SNAPSHOT).snapshot(Snapshot.EMPTY).build();
    assertThat(roundTrip(none).snapshot()).isNull();
    assertThat(roundTrip(empty).snapshot()).isNotNull();
    assertThat(roundTrip(empty).snapshot().metadata()).isEqualTo(SnapshotMetadata.EMPTY);
  }

  @Test
  void localMessageTypesNeverReachTheWire() {
    for (MessageType t : MessageType.values()) {
      if (t.isLocal()) {
        assertThatThrownBy(() -> RaftMessageCodec.toProto(1, Message.builder(t).build()))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(t.name());
      }
    }
  }

  @Test
  void unknownWireTypesAreRejected() {
    io.flotilla.engine.proto.Message unknown =
        io.flotilla.engine.proto.Message.newBuilder().setTypeValue(999).build();
    assertThatThrownBy(() -> RaftMessageCodec.fromProto(unknown))
        .isInstanceOf(IllegalArgumentException.class);
    io.flotilla.engine.proto.Message unset = io.flotilla.engine.proto.Message.newBuilder().build();
    assertThatThrownBy(() -> RaftMessageCodec.fromProto(unset))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static Message roundTrip(Message m) {
    return RaftMessageCodec.fromProto(RaftMessageCodec.toProto(1, m));
  }

  /**
   * Field by field, arrays by content: the records' own equals compares arrays by identity. (AssertJ's
   * recursive comparison does the same but takes milliseconds per message.)
   */
  static void assertSame(Message actual, Message expected) {
    String what = expected.toString();
    assertThat(actual.type()).as(what).isEqualTo(expected.type());
    assertThat(new long[] {actual.to(), actual.from(), actual.term(), actual.logTerm(),
        actual.index(), actual.commit(), actual.rejectHint()})
        .as(what)
        .containsExactly(expected.to(), expected.from(), expected.term(), expected.logTerm(),
            expected.index(), expected.commit(), expected.rejectHint());
    assertThat(actual.reject()).as(what).isEqualTo(expected.reject());
    // Entry.equals compares data by content.
    assertThat(actual.entries()).as(what).isEqualTo(expected.entries());
    assertThat(actual.context()).as(what).isEqualTo(expected.context());
    if (expected.snapshot() == null) {
      assertThat(actual.snapshot()).as(what).isNull();
    } else {
      assertThat(actual.snapshot()).as(what).isNotNull();
      assertThat(actual.snapshot().data()).as(what).isEqualTo(expected.snapshot().data());
      assertThat(actual.snapshot().metadata()).as(what).isEqualTo(expected.snapshot().metadata());
    }
  }

  static long seed() {
    String s = System.getProperty("flotilla.seed");
    return s == null || s.isBlank() ? System.nanoTime() : Long.parseLong(s.trim());
  }

  static Message randomMessage(Random r) {
    Message.Builder b = Message.builder(WIRE_TYPES.get(r.nextInt(WIRE_TYPES.size())))
        .to(anyLong(r))
        .from(anyLong(r))
        .term(anyLong(r))
        .logTerm(anyLong(r))
        .index(anyLong(r))
        .commit(anyLong(r))
        .reject(r.nextBoolean())
        .rejectHint(anyLong(r));
    int entries = r.nextInt(4) == 0 ? 0 : r.nextInt(6);
    List<Entry> list = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      list.add(new Entry(anyLong(r), anyLong(r),
          r.nextInt(5) == 0 ? EntryType.CONF_CHANGE : EntryType.NORMAL, bytes(r, 100)));
    }
    b.entries(list);
    switch (r.nextInt(4)) {
      case 0 -> b.snapshot(Snapshot.EMPTY);
      case 1 -> b.snapshot(new Snapshot(bytes(r, 300), new SnapshotMetadata(
          r.nextBoolean() ? null : randomConfState(r), anyLong(r), anyLong(r))));
      default -> { } // no snapshot
    }
    if (r.nextBoolean()) {
      b.context(bytes(r, 20));
    }
    return b.build();
  }

  private static ConfState randomConfState(Random r) {
    return new ConfState(ids(r), ids(r), ids(r), ids(r), r.nextBoolean());
  }

  private static List<Long> ids(Random r) {
    List<Long> ids = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      ids.add(anyLong(r));
    }
    return ids;
  }

  /** Zero, small, or any 64-bit value (uint64 on the wire, negative in Java). */
  private static long anyLong(Random r) {
    return switch (r.nextInt(3)) {
      case 0 -> 0;
      case 1 -> r.nextInt(1000);
      default -> r.nextLong();
    };
  }

  private static byte[] bytes(Random r, int max) {
    byte[] b = new byte[r.nextInt(3) == 0 ? 0 : r.nextInt(max + 1)];
    r.nextBytes(b);
    return b;
  }
}
