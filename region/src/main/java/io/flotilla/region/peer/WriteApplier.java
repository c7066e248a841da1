package io.flotilla.region.peer;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.CompareAndSet;
import io.flotilla.engine.proto.KeyNotInRegion;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvReader;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Applies one {@link WriteRequest} to a region: all its mutations or none. Mutations apply in
 * order, each seeing the ones before it; a failing compare-and-set discards the whole request and
 * answers which mutation failed and the key's current value. Range deletes are clipped to the
 * region. Reads go to the pending writes of this apply call first ({@link WriteOverlay}), then to
 * the store's {@link KvReader}.
 *
 * <p>The applying thread of the region only.
 */
final class WriteApplier {
  private final KvReader reader;

  WriteApplier(KvReader reader) {
    this.reader = reader;
  }

  private sealed interface Op permits PutOp, DeleteOp, RangeOp {}

  private record PutOp(byte[] key, byte[] value) implements Op {}

  private record DeleteOp(byte[] key) implements Op {}

  private record RangeOp(byte[] start, byte[] end) implements Op {}

  WriteResponse apply(RegionPeer peer, WriteRequest req, WriteOverlay callOverlay, StorageBatch batch) {
    Region region = peer.region();
    WriteOverlay mine = new WriteOverlay(callOverlay);
    List<Op> ops = new ArrayList<>(req.getMutationsCount());
    for (int i = 0; i < req.getMutationsCount(); i++) {
      Mutation m = req.getMutations(i);
      switch (m.getOpCase()) {
        case PUT -> {
          byte[] k = m.getPut().getKey().toByteArray();
          if (!KeyRange.contains(region, k)) {
            return keyNotInRegion(region, k);
          }
          byte[] v = m.getPut().getValue().toByteArray();
          mine.put(k, v);
          ops.add(new PutOp(k, v));
        }
        case DELETE -> {
          byte[] k = m.getDelete().getKey().toByteArray();
          if (!KeyRange.contains(region, k)) {
            return keyNotInRegion(region, k);
          }
          mine.delete(k);
          ops.add(new DeleteOp(k));
        }
        case DELETE_RANGE -> {
          byte[] s = KeyRange.maxStart(m.getDeleteRange().getStartKey().toByteArray(),
              region.getStartKey().toByteArray());
          byte[] e = KeyRange.minEnd(m.getDeleteRange().getEndKey().toByteArray(), region.getEndKey().toByteArray());
          if (!KeyRange.isEmpty(s, e)) {
            mine.deleteRange(s, e);
            ops.add(new RangeOp(s, e));
          }
        }
        case CAS -> {
          CompareAndSet cas = m.getCas();
          byte[] k = cas.getKey().toByteArray();
          if (!KeyRange.contains(region, k)) {
            return keyNotInRegion(region, k);
          }
          byte[] current = read(mine, k);
          boolean ok = cas.getExpectAbsent()
              ? current == null
              : current != null && Arrays.equals(current, cas.getExpected().toByteArray());
          if (!ok) {
            WriteResponse.Builder r = WriteResponse.newBuilder().setSucceeded(false).setFailedMutation(i)
                .setCurrentFound(current != null);
            if (current != null) {
              r.setCurrentValue(ByteString.copyFrom(current));
            }
            return r.build();
          }
          if (cas.getDelete()) {
            mine.delete(k);
            ops.add(new DeleteOp(k));
          } else {
            byte[] v = cas.getNewValue().toByteArray();
            mine.put(k, v);
            ops.add(new PutOp(k, v));
          }
        }
        default -> {
          // An empty mutation (a newer client's op this build does not know) is refused whole.
          return WriteResponse.newBuilder().setError(KvError.newBuilder()
              .setMessage("mutation " + i + " has an operation this store does not know: " + m.getOpCase())).build();
        }
      }
    }
    for (Op op : ops) {
      emit(peer, op, callOverlay, batch);
    }
    mine.mergeInto(callOverlay);
    return WriteResponse.newBuilder().setSucceeded(true).build();
  }

  private void emit(RegionPeer peer, Op op, WriteOverlay callOverlay, StorageBatch batch) {
    if (op instanceof PutOp p) {
      batch.put(Cf.DATA, p.key(), p.value());
      long bytes = p.key().length + p.value().length;
      peer.bytesWritten.addAndGet(bytes);
      peer.keysWritten.incrementAndGet();
      addIfKnown(peer, bytes, 1);
    } else if (op instanceof DeleteOp d) {
      batch.delete(Cf.DATA, d.key());
      peer.keysWritten.incrementAndGet();
      peer.bytesWritten.addAndGet(d.key().length);
    } else if (op instanceof RangeOp r) {
      byte[] end = r.end();
      if (end.length == 0) {
        // NB: RocksDB range deletes need an end: one past the last key that may exist in range.
        byte[] last = RegionRecords.lastDataKeyFrom(reader, r.start());
        byte[] pending = callOverlay.lastPointIn(r.start(), end);
        if (pending != null && (last == null || KeyRange.compare(pending, last) > 0)) {
          last = pending;
        }
        if (last == null) {
          return;
        }
        end = KeyRange.successor(last);
      }
      batch.deleteRange(Cf.DATA, r.start(), end);
      peer.keysWritten.incrementAndGet();
      // The range's size is unknown: rescan before the next split decision.
      peer.setApproximate(-1, -1);
    }
  }

  private static void addIfKnown(RegionPeer peer, long bytes, long keys) {
    if (peer.approximateSize.get() >= 0) {
      peer.approximateSize.addAndGet(bytes);
      peer.approximateKeys.addAndGet(keys);
    }
  }

  private byte[] read(WriteOverlay overlay, byte[] key) {
    WriteOverlay.Lookup l = overlay.get(key);
    if (l.known()) {
      return l.value();
    }
    return reader.get(Cf.DATA, key);
  }

  static WriteResponse keyNotInRegion(Region region, byte[] key) {
    return WriteResponse.newBuilder().setError(KvError.newBuilder()
        .setMessage("key not in region " + region.getId())
        .setKeyNotInRegion(KeyNotInRegion.newBuilder().setKey(ByteString.copyFrom(key)).setRegionId(region.getId())
            .setStartKey(region.getStartKey()).setEndKey(region.getEndKey()))).build();
  }
}
