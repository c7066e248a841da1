package io.flotilla.region.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key layout of a node's RocksDB. All integers are 8-byte big-endian, so the byte order of keys
 * is the numeric order of group ids and indexes (both are never negative; group ids are {@code >= 1}).
 *
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>family</th><th>key</th><th>value ({@link Codec})</th></tr>
 *   <tr><td>{@code raft}</td><td>{@code groupId ++ 0x01 ++ index}</td><td>log entry</td></tr>
 *   <tr><td>{@code raft}</td><td>{@code groupId ++ 0x02}</td><td>hard state</td></tr>
 *   <tr><td>{@code raft}</td><td>{@code groupId ++ 0x03}</td>
 *       <td>apply state (applied index, truncated index and term)</td></tr>
 *   <tr><td>{@code meta}</td><td>{@code groupId ++ 0x01}</td>
 *       <td>local state (latest snapshot metadata, membership)</td></tr>
 *   <tr><td>{@code meta}</td><td>{@code groupId ++ tag}, tag {@code 0x10..0xff}</td>
 *       <td>region layer records, free-form</td></tr>
 *   <tr><td>{@code data}</td><td>user key as it is</td><td>user value</td></tr>
 *   <tr><td>{@code default}</td><td>{@code "flotilla.storage.format"}</td>
 *       <td>format version: one byte, {@link Codec#FORMAT_VERSION}</td></tr>
 *   <tr><td>{@code default}</td><td>other keys (not starting {@code "flotilla.storage."})</td>
 *       <td>node-level records of other layers</td></tr>
 * </table>
 *
 * <p>Raft tags {@code 0x04..0xff} and meta tags {@code 0x02..0x0f} are reserved for the storage.
 * Everything a group owns in {@code raft} and {@code meta} lies in {@code [groupId, groupId + 1)}, so
 * one range delete per family destroys it; its log lies in {@code [groupId ++ 0x01, groupId ++ 0x02)}.
 *
 * <p>Stateless; any thread.
 */
public final class Keys {
  /** Tag of log entries in {@link Cf#RAFT}. */
  public static final byte LOG = 0x01;
  /** Tag of the hard state in {@link Cf#RAFT}. */
  public static final byte HARD_STATE = 0x02;
  /** Tag of the apply state in {@link Cf#RAFT}. */
  public static final byte APPLY_STATE = 0x03;
  /** Tag of the local state in {@link Cf#META}. */
  public static final byte LOCAL_STATE = 0x01;
  /** The first {@link Cf#META} tag free for the region layer. */
  public static final int FIRST_REGION_META_TAG = 0x10;
  /** Prefix of the storage's own keys in {@link Cf#DEFAULT}; callers may not write under it. */
  public static final byte[] STORAGE_DEFAULT_PREFIX = "flotilla.storage.".getBytes(StandardCharsets.UTF_8);
  /** Key of the format version in {@link Cf#DEFAULT}. */
  public static final byte[] FORMAT_VERSION = "flotilla.storage.format".getBytes(StandardCharsets.UTF_8);

  static final int GROUP_PREFIX_LEN = 8;
  static final int TAGGED_LEN = 9;
  static final int ENTRY_KEY_LEN = 17;

  private Keys() {}

  /** Key of log entry {@code index} of {@code groupId} in {@link Cf#RAFT}. */
  public static byte[] entry(long groupId, long index) {
    return ByteBuffer.allocate(ENTRY_KEY_LEN).putLong(groupId).put(LOG).putLong(index).array();
  }

  /** Inclusive start of a group's log: the key of index 0. */
  public static byte[] logStart(long groupId) {
    return entry(groupId, 0);
  }

  /** Exclusive end of a group's log: every entry key of the group sorts before it. */
  public static byte[] logEnd(long groupId) {
    return tagged(groupId, (byte) (LOG + 1));
  }

  public static byte[] hardState(long groupId) {
    return tagged(groupId, HARD_STATE);
  }

  public static byte[] applyState(long groupId) {
    return tagged(groupId, APPLY_STATE);
  }

  public static byte[] localState(long groupId) {
    return tagged(groupId, LOCAL_STATE);
  }

  /** A region-layer key in {@link Cf#META}; {@code tag} must be at least {@link #FIRST_REGION_META_TAG}. */
  public static byte[] regionMeta(long groupId, int tag) {
    if (tag < FIRST_REGION_META_TAG || tag > 0xff) {
      throw new IllegalArgumentException(
          "tag: must be in [" + FIRST_REGION_META_TAG + ", 255], got " + tag);
    }
    return tagged(groupId, (byte) tag);
  }

  /** Inclusive start of everything {@code groupId} owns in {@link Cf#RAFT} and {@link Cf#META}. */
  public static byte[] groupStart(long groupId) {
    return ByteBuffer.allocate(GROUP_PREFIX_LEN).putLong(groupId).array();
  }

  /** Exclusive end of everything {@code groupId} owns (group ids are positive: no overflow). */
  public static byte[] groupEnd(long groupId) {
    return groupStart(groupId + 1);
  }

  /** The group id a {@link Cf#RAFT} or {@link Cf#META} key belongs to. */
  public static long groupId(byte[] key) {
    if (key.length < GROUP_PREFIX_LEN) {
      throw new IllegalArgumentException("not a group key: " + key.length + " bytes");
    }
    return ByteBuffer.wrap(key).getLong(0);
  }

  /** Whether {@code key} is a log entry key of {@code groupId}. */
  public static boolean isEntryOf(byte[] key, long groupId) {
    return key.length == ENTRY_KEY_LEN && key[GROUP_PREFIX_LEN] == LOG && groupId(key) == groupId;
  }

  /** The index of a log entry key. */
  public static long entryIndex(byte[] key) {
    if (key.length != ENTRY_KEY_LEN || key[GROUP_PREFIX_LEN] != LOG) {
      throw new IllegalArgumentException("not a log entry key: " + key.length + " bytes");
    }
    return ByteBuffer.wrap(key).getLong(TAGGED_LEN);
  }

  /**
   * Whether {@code key} in {@code cf} belongs to the storage itself (callers may not write it). All
   * {@link Cf#META} keys are group-scoped ({@code groupId ++ tag ++ ...}).
   */
  static boolean isStorageOwned(Cf cf, byte[] key) {
    return switch (cf) {
      case RAFT -> true;
      case META -> key.length < TAGGED_LEN || (key[GROUP_PREFIX_LEN] & 0xff) < FIRST_REGION_META_TAG;
      case DEFAULT -> Arrays.equals(
          key, 0, Math.min(key.length, STORAGE_DEFAULT_PREFIX.length),
          STORAGE_DEFAULT_PREFIX, 0, STORAGE_DEFAULT_PREFIX.length);
      case DATA, LOCK, WRITE, VERSION -> false;
    };
  }

  /** Whether {@code [from, to)} in {@code cf} may hold a storage-owned key. */
  static boolean rangeTouchesStorage(Cf cf, byte[] from, byte[] to) {
    if (isStorageOwned(cf, from)) {
      return true;
    }
    return switch (cf) {
      case RAFT -> true;
      case META -> Arrays.compareUnsigned(to, groupEnd(groupId(from))) > 0;
      case DEFAULT -> Arrays.compareUnsigned(from, STORAGE_DEFAULT_PREFIX) < 0
          && Arrays.compareUnsigned(to, STORAGE_DEFAULT_PREFIX) > 0;
      case DATA, LOCK, WRITE, VERSION -> false;
    };
  }

  private static byte[] tagged(long groupId, byte tag) {
    return ByteBuffer.allocate(TAGGED_LEN).putLong(groupId).put(tag).array();
  }
}
