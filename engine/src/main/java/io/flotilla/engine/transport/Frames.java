package io.flotilla.engine.transport;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.engine.proto.Frame;
import io.flotilla.engine.proto.Handshake;
import io.flotilla.engine.proto.HandshakeAck;
import io.flotilla.engine.proto.Lane;
import io.flotilla.engine.proto.NodeHeartbeat;
import io.flotilla.engine.proto.RaftBatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Frame layout, encoding and parsing. On the wire a frame is a 4-byte big-endian body length
 * followed by the body: one serialized {@link Frame}. {@link FrameDecoder} does the splitting.
 *
 * <p>Threads: stateless; any thread.
 */
final class Frames {

  /** The protocol version this code speaks; a frame with another version closes the connection. */
  static final int PROTOCOL_VERSION = 1;

  static final int LENGTH_PREFIX_BYTES = 4;

  /**
   * Envelope bytes a {@link RaftBatch} frame adds around its messages: the version field (up to 6
   * bytes) and the batch's tag and length (up to 6 bytes), rounded up.
   */
  static final int BATCH_ENVELOPE_BYTES = 16;

  private Frames() {}

  static Frame.Builder frame() {
    return Frame.newBuilder().setVersion(PROTOCOL_VERSION);
  }

  static Frame handshake(long nodeId, Lane lane) {
    return frame().setHandshake(Handshake.newBuilder().setNodeId(nodeId).setLane(lane)).build();
  }

  static Frame handshakeAck(long nodeId) {
    return frame().setHandshakeAck(HandshakeAck.newBuilder().setNodeId(nodeId)).build();
  }

  static Frame heartbeat(long nodeId) {
    return frame().setHeartbeat(NodeHeartbeat.newBuilder().setNodeId(nodeId)).build();
  }

  /** Wire bytes one message adds to a {@link RaftBatch}. */
  static int batchedSize(io.flotilla.engine.proto.Message m) {
    return CodedOutputStream.computeMessageSize(RaftBatch.MESSAGES_FIELD_NUMBER, m);
  }

  /**
   * Serializes {@code frame}, length prefix included, straight into a buffer from {@code alloc}
   * (no intermediate byte array).
   */
  static ByteBuf encode(ByteBufAllocator alloc, Frame frame) {
    int size = frame.getSerializedSize();
    ByteBuf buf = alloc.ioBuffer(LENGTH_PREFIX_BYTES + size);
    boolean ok = false;
    try {
      buf.writeInt(size);
      CodedOutputStream out = CodedOutputStream.newInstance(buf.nioBuffer(buf.writerIndex(), size));
      frame.writeTo(out);
      out.checkNoSpaceLeft();
      buf.writerIndex(buf.writerIndex() + size);
      ok = true;
      return buf;
    } catch (IOException e) {
      throw new UncheckedIOException("serializing a frame of " + size + " bytes", e);
    } finally {
      if (!ok) {
        buf.release();
      }
    }
  }

  /**
   * Parses a frame body. NB: byte fields of the result alias {@code body} (no copy), so they are
   * valid only until {@code body} is released; everything handed out of the transport is copied
   * first (see {@link RaftMessageCodec}).
   */
  static Frame parse(ByteBuf body) throws InvalidProtocolBufferException {
    CodedInputStream in =
        UnsafeByteOperations.unsafeWrap(body.nioBuffer(body.readerIndex(), body.readableBytes()))
            .newCodedInput();
    in.enableAliasing(true);
    Frame frame;
    try {
      frame = Frame.parseFrom(in);
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) { // not thrown for an in-memory buffer; declared by parseFrom
      throw new InvalidProtocolBufferException(e);
    }
    if (frame.getVersion() != PROTOCOL_VERSION) {
      throw new InvalidProtocolBufferException(
          "unsupported protocol version " + frame.getVersion() + " (this node speaks "
              + PROTOCOL_VERSION + ")");
    }
    if (frame.getBodyCase() == Frame.BodyCase.BODY_NOT_SET) {
      throw new InvalidProtocolBufferException("frame without a body");
    }
    return frame;
  }
}
