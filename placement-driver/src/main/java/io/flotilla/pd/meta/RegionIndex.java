package io.flotilla.pd.meta;

import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.pdinternal.PdRegionRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * PD's regions, by id and by start key. Keys compare as unsigned bytes; an empty start key is minus
 * infinity, an empty end key plus infinity.
 *
 * <p>Invariant: the two maps hold the same records, and no two records in {@code byStart} overlap
 * (the callers remove overlapping regions before they put one).
 *
 * <p>Threads: not thread-safe; {@link MetaState} guards it.
 */
final class RegionIndex {
  static final Comparator<byte[]> KEY_ORDER = Arrays::compareUnsigned;

  private final NavigableMap<byte[], PdRegionRecord> byStart = new TreeMap<>(KEY_ORDER);
  private final Map<Long, PdRegionRecord> byId = new HashMap<>();

  PdRegionRecord byId(long regionId) {
    return byId.get(regionId);
  }

  /** The region holding {@code key}, or null (a gap, or no regions). */
  PdRegionRecord byKey(byte[] key) {
    Map.Entry<byte[], PdRegionRecord> e = byStart.floorEntry(key);
    if (e == null) {
      return null;
    }
    byte[] end = e.getValue().getRegion().getEndKey().toByteArray();
    return end.length == 0 || KEY_ORDER.compare(key, end) < 0 ? e.getValue() : null;
  }

  /**
   * Regions overlapping [{@code start}, {@code end}) ({@code end} empty: to the end) in key order,
   * at most {@code limit} (0: all).
   */
  List<PdRegionRecord> scan(byte[] start, byte[] end, int limit) {
    List<PdRegionRecord> out = new ArrayList<>();
    byte[] from = byStart.floorKey(start);
    NavigableMap<byte[], PdRegionRecord> tail = from == null ? byStart : byStart.tailMap(from, true);
    for (PdRegionRecord r : tail.values()) {
      Region region = r.getRegion();
      byte[] regionEnd = region.getEndKey().toByteArray();
      if (regionEnd.length > 0 && KEY_ORDER.compare(regionEnd, start) <= 0) {
        continue; // the floor region ends before the scan starts
      }
      if (end.length > 0 && KEY_ORDER.compare(region.getStartKey().toByteArray(), end) >= 0) {
        break;
      }
      out.add(r);
      if (limit > 0 && out.size() >= limit) {
        break;
      }
    }
    return out;
  }

  /** Regions other than {@code region} itself that overlap its range. */
  List<PdRegionRecord> overlapping(Region region) {
    List<PdRegionRecord> out = new ArrayList<>();
    for (PdRegionRecord r : scan(region.getStartKey().toByteArray(), region.getEndKey().toByteArray(), 0)) {
      if (r.getRegion().getId() != region.getId()) {
        out.add(r);
      }
    }
    return out;
  }

  /** Puts {@code record}, replacing the record of the same id (which may have had another range). */
  void put(PdRegionRecord record) {
    remove(record.getRegion().getId());
    byStart.put(record.getRegion().getStartKey().toByteArray(), record);
    byId.put(record.getRegion().getId(), record);
  }

  void remove(long regionId) {
    PdRegionRecord old = byId.remove(regionId);
    if (old != null) {
      byte[] start = old.getRegion().getStartKey().toByteArray();
      PdRegionRecord atStart = byStart.get(start);
      if (atStart != null && atStart.getRegion().getId() == regionId) {
        byStart.remove(start);
      }
    }
  }

  /** How many regions have a peer (any role) on {@code storeId}. */
  long countOnStore(long storeId) {
    long n = 0;
    for (PdRegionRecord r : byId.values()) {
      for (Peer p : r.getRegion().getPeersList()) {
        if (p.getStoreId() == storeId) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  Collection<PdRegionRecord> inKeyOrder() {
    return byStart.values();
  }

  int size() {
    return byId.size();
  }

  void clear() {
    byStart.clear();
    byId.clear();
  }
}
