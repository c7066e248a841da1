package io.flotilla.engine.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into frame bodies (retained slices, released by the next handler).
 *
 * <p>A length of 0 or above {@code maxFrameBytes}, or a connection that closes in the middle of a
 * frame, is reported through {@link ProtocolErrors} (one WARN line, connection closed); after that
 * the decoder discards whatever else arrives.
 *
 * <p>Threads: the channel's event loop only (one instance per channel).
 */
final class FrameDecoder extends ByteToMessageDecoder {

  private final int maxFrameBytes;
  private final TransportMetrics metrics;
  private boolean failed;

  FrameDecoder(int maxFrameBytes, TransportMetrics metrics) {
    this.maxFrameBytes = maxFrameBytes;
    this.metrics = metrics;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    while (in.readableBytes() >= Frames.LENGTH_PREFIX_BYTES) {
      long length = in.getUnsignedInt(in.readerIndex());
      if (length == 0 || length > maxFrameBytes) {
        fail(ctx, in, length == 0
            ? "empty frame (length prefix 0)"
            : "frame of " + length + " bytes exceeds maxFrameBytes = " + maxFrameBytes);
        return;
      }
      if (in.readableBytes() < Frames.LENGTH_PREFIX_BYTES + length) {
        return;
      }
      in.skipBytes(Frames.LENGTH_PREFIX_BYTES);
      out.add(in.readRetainedSlice((int) length));
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    decode(ctx, in, out);
    if (!failed && in.isReadable() && !ProtocolErrors.closing(ctx.channel())) {
      String detail = in.readableBytes() < Frames.LENGTH_PREFIX_BYTES
          ? in.readableBytes() + " bytes of a length prefix"
          : (in.readableBytes() - Frames.LENGTH_PREFIX_BYTES) + " of "
              + in.getUnsignedInt(in.readerIndex()) + " bytes";
      fail(ctx, in, "connection closed in the middle of a frame (truncated: " + detail + ")");
    }
  }

  private void fail(ChannelHandlerContext ctx, ByteBuf in, String reason) {
    failed = true;
    in.skipBytes(in.readableBytes());
    ProtocolErrors.closeConnection(ctx.channel(), metrics, reason);
  }
}
