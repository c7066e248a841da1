package io.flotilla.pd.meta;

import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.Keys;
import java.nio.ByteBuffer;

/**
 * Where PD keeps its state in its node's RocksDB: {@link Cf#META} records of its Raft group, under
 * the tags the storage leaves to upper layers ({@link Keys#regionMeta}), so the storage's own
 * records are never touched and one range delete clears PD's state for a snapshot restore.
 *
 * <table>
 *   <caption>Keys (all in {@code meta})</caption>
 *   <tr><th>key</th><th>value</th></tr>
 *   <tr><td>{@code groupId ++ 0x10}</td><td>{@code PdClusterRecord} (cluster id, bootstrapped, id and TSO bounds)</td></tr>
 *   <tr><td>{@code groupId ++ 0x11 ++ storeId}</td><td>{@code meta.Store}</td></tr>
 *   <tr><td>{@code groupId ++ 0x12 ++ regionId}</td><td>{@code PdRegionRecord}</td></tr>
 * </table>
 *
 * <p>Ids are 8-byte big-endian. Stateless; any thread.
 */
final class MetaKeys {
  static final int CLUSTER_TAG = 0x10;
  static final int STORE_TAG = 0x11;
  static final int REGION_TAG = 0x12;

  private MetaKeys() {}

  static byte[] cluster(long groupId) {
    return Keys.regionMeta(groupId, CLUSTER_TAG);
  }

  static byte[] store(long groupId, long storeId) {
    return withId(Keys.regionMeta(groupId, STORE_TAG), storeId);
  }

  static byte[] region(long groupId, long regionId) {
    return withId(Keys.regionMeta(groupId, REGION_TAG), regionId);
  }

  /** Inclusive start of everything PD keeps. */
  static byte[] first(long groupId) {
    return Keys.regionMeta(groupId, CLUSTER_TAG);
  }

  /** Exclusive end of everything PD keeps. */
  static byte[] end(long groupId) {
    return Keys.groupEnd(groupId);
  }

  /** The tag of one of PD's keys. */
  static int tag(byte[] key) {
    return key[8] & 0xff;
  }

  private static byte[] withId(byte[] prefix, long id) {
    return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(id).array();
  }
}
