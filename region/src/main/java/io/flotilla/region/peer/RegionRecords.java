package io.flotilla.region.peer;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.Keys;
import io.flotilla.region.storage.KvReader;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.StorageBatch;
import io.flotilla.region.txn.MvccKeys;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The region layer's records in {@link Cf#META} (tags from {@link Keys#FIRST_REGION_META_TAG}):
 *
 * <table>
 *   <caption>Region records</caption>
 *   <tr><th>key</th><th>value</th></tr>
 *   <tr><td>{@code regionId ++ 0x10}</td><td>region local state: format byte 1, state byte
 *       (0 normal, 1 tombstone), this store's peer id (8 bytes), the {@code meta.Region} (empty
 *       while the peer is uninitialized)</td></tr>
 *   <tr><td>{@code regionId ++ 0x11 ++ clientId}</td><td>de-duplication entry: last applied seq
 *       (8 bytes), then the {@code kv.WriteResponse} it was answered with</td></tr>
 *   <tr><td>{@code regionId ++ 0x12}</td><td>a snapshot being applied (see
 *       {@code snapshot.RegionSnapshots}): written before its SST is ingested, deleted in the batch
 *       that records the snapshot</td></tr>
 * </table>
 *
 * <p>Stateless; any thread.
 */
public final class RegionRecords {
  public static final int TAG_REGION = 0x10;
  public static final int TAG_DEDUP = 0x11;
  public static final int TAG_SNAPSHOT_APPLYING = 0x12;
  private static final byte FORMAT = 1;

  private RegionRecords() {}

  /** What a store knows of one of its regions after a restart. */
  public record Loaded(long regionId, long peerId, RegionPeer.State state, Region region,
      Map<Long, DedupEntry> dedup) {}

  public static byte[] regionKey(long regionId) {
    return Keys.regionMeta(regionId, TAG_REGION);
  }

  public static byte[] snapshotApplyingKey(long regionId) {
    return Keys.regionMeta(regionId, TAG_SNAPSHOT_APPLYING);
  }

  public static byte[] dedupKey(long regionId, long clientId) {
    return ByteBuffer.allocate(17).put(Keys.regionMeta(regionId, TAG_DEDUP)).putLong(clientId).array();
  }

  /** Inclusive start of a region's de-duplication entries. */
  public static byte[] dedupStart(long regionId) {
    return Keys.regionMeta(regionId, TAG_DEDUP);
  }

  /** Exclusive end of a region's de-duplication entries. */
  public static byte[] dedupEnd(long regionId) {
    return Keys.regionMeta(regionId, TAG_DEDUP + 1);
  }

  public static byte[] encodeRegion(RegionPeer.State state, long peerId, Region region) {
    byte[] r = region == null ? new byte[0] : region.toByteArray();
    return ByteBuffer.allocate(10 + r.length).put(FORMAT).put((byte) state.ordinal()).putLong(peerId).put(r)
        .array();
  }

  public static byte[] encodeDedup(DedupEntry e) {
    return e.encode();
  }

  public static DedupEntry decodeDedup(byte[] v) {
    try {
      return DedupEntry.decode(v);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IllegalStateException("corrupt de-duplication entry (" + v.length + " bytes): " + e, e);
    }
  }

  /** Every region record on this node, with its de-duplication entries, by region id. */
  public static List<Loaded> loadAll(KvReader reader) {
    List<Loaded> out = new ArrayList<>();
    Map<Long, Map<Long, DedupEntry>> dedup = new HashMap<>();
    List<byte[][]> regions = new ArrayList<>();
    try (KvSnapshot snap = reader.snapshot()) {
      snap.scan(Cf.META, new byte[0], new byte[0], at -> {
        byte[] k = at.key();
        if (k.length < 9) {
          return true;
        }
        int tag = k[8] & 0xff;
        long regionId = Keys.groupId(k);
        if (tag == TAG_REGION && k.length == 9) {
          regions.add(new byte[][] {k, at.value()});
        } else if (tag == TAG_DEDUP && k.length == 17) {
          long client = ByteBuffer.wrap(k).getLong(9);
          dedup.computeIfAbsent(regionId, x -> new HashMap<>()).put(client, decodeDedup(at.value()));
        }
        return true;
      });
    }
    for (byte[][] kv : regions) {
      long regionId = Keys.groupId(kv[0]);
      out.add(decodeRegion(regionId, kv[1], dedup.getOrDefault(regionId, new HashMap<>())));
    }
    return out;
  }

  static Loaded decodeRegion(long regionId, byte[] v, Map<Long, DedupEntry> dedup) {
    if (v.length < 10 || v[0] != FORMAT) {
      throw new IllegalStateException("region " + regionId + ": record of unknown format (" + v.length
          + " bytes, format " + (v.length > 0 ? v[0] : -1) + "); open the data with the version that wrote it");
    }
    RegionPeer.State state = RegionPeer.State.values()[v[1]];
    long peerId = ByteBuffer.wrap(v).getLong(2);
    Region region = null;
    if (v.length > 10) {
      try {
        region = Region.parseFrom(Arrays.copyOfRange(v, 10, v.length));
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("region " + regionId + ": corrupt region record: " + e.getMessage(), e);
      }
    }
    return new Loaded(regionId, peerId, state, region, dedup);
  }

  /** Reads one region record, or null. */
  public static Loaded load(KvReader reader, long regionId) {
    byte[] v = reader.get(Cf.META, regionKey(regionId));
    return v == null ? null : decodeRegion(regionId, v, new HashMap<>());
  }

  /** The last key of {@link Cf#DATA} at or after {@code from}, or null. */
  public static byte[] lastDataKeyFrom(KvReader reader, byte[] from) {
    try (KvSnapshot snap = reader.snapshot()) {
      return snap.lastKey(Cf.DATA, from);
    }
  }

  /**
   * Deletes every key of user range {@code [start, end)} (end empty: to the end) into {@code b}:
   * in {@link Cf#DATA} as it is, and in each transaction family as {@code [mc(start), mc(end))}
   * ({@link MvccKeys}). A range to the end is bounded by the family's last key (RocksDB range
   * deletes need an end); a family with nothing there gets no delete.
   */
  public static void deleteKeys(StorageBatch b, KvReader reader, byte[] start, byte[] end) {
    try (KvSnapshot snap = reader.snapshot()) {
      deleteRange(b, snap, Cf.DATA, start, end);
      byte[] txnStart = MvccKeys.rangeStart(start);
      byte[] txnEnd = MvccKeys.rangeEnd(end);
      for (Cf cf : Cf.TXN) {
        // NB: no range tombstone in a family without a key there (raw-only regions, most of them).
        if (hasKeyIn(snap, cf, txnStart, txnEnd)) {
          deleteRange(b, snap, cf, txnStart, txnEnd);
        }
      }
    }
  }

  /** Whether {@code [start, end)} of {@code cf} holds a key (one seek). */
  public static boolean hasKeyIn(KvSnapshot snap, Cf cf, byte[] start, byte[] end) {
    boolean[] found = {false};
    snap.scan(cf, start, end, at -> {
      found[0] = true;
      return false;
    });
    return found[0];
  }

  private static void deleteRange(StorageBatch b, KvSnapshot snap, Cf cf, byte[] start, byte[] end) {
    if (end.length == 0) {
      byte[] last = snap.lastKey(cf, start);
      if (last == null) {
        return;
      }
      end = KeyRange.successor(last);
    }
    if (!KeyRange.isEmpty(start, end)) {
      b.deleteRange(cf, start, end);
    }
  }
}
