package io.flotilla.region.storage;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.EntryType;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Value encodings of the storage's own records. Hand-written and compact, each opening with a
 * version byte so a later format can be read beside this one. Integers are big-endian; ids, indexes
 * and terms are 8 bytes, counts 4.
 *
 * <table>
 *   <caption>Values (version 1)</caption>
 *   <tr><th>record</th><th>bytes</th></tr>
 *   <tr><td>log entry</td><td>{@code 0x01, type (1: 0 normal, 1 conf change), term (8), data (rest)};
 *       the index is in the key</td></tr>
 *   <tr><td>hard state</td><td>{@code 0x01, term, vote, commit} (25 bytes)</td></tr>
 *   <tr><td>apply state</td><td>{@code 0x01, appliedIndex, truncatedIndex, truncatedTerm} (25 bytes)</td></tr>
 *   <tr><td>local state</td><td>{@code 0x01, snapshot index, snapshot term, snapshot conf state,
 *       confIndex, conf state}</td></tr>
 *   <tr><td>conf state</td><td>{@code voters, learners, votersOutgoing, learnersNext} each as
 *       {@code count (4), ids (8 each)}, then {@code autoLeave (1)}</td></tr>
 * </table>
 *
 * <p>Stateless; any thread.
 */
public final class Codec {
  /** Version byte of every record this build writes. */
  public static final byte V1 = 1;
  /** The on-disk format this build reads and writes ({@link Keys#FORMAT_VERSION}). */
  public static final byte FORMAT_VERSION = 1;

  static final int ENTRY_HEADER_LEN = 10;
  private static final byte TYPE_NORMAL = 0;
  private static final byte TYPE_CONF_CHANGE = 1;
  private static final int STATE_LEN = 25;

  private Codec() {}

  public static byte[] encodeEntry(Entry e) {
    byte[] data = e.data();
    return ByteBuffer.allocate(ENTRY_HEADER_LEN + data.length)
        .put(V1)
        .put(typeCode(e.type()))
        .putLong(e.term())
        .put(data)
        .array();
  }

  /** The entry stored under index {@code index} with value {@code v}. */
  public static Entry decodeEntry(long index, byte[] v) {
    checkHeader(v, ENTRY_HEADER_LEN, "log entry " + index);
    EntryType type = entryType(v[1], index);
    long term = ByteBuffer.wrap(v).getLong(2);
    byte[] data = new byte[v.length - ENTRY_HEADER_LEN];
    System.arraycopy(v, ENTRY_HEADER_LEN, data, 0, data.length);
    return new Entry(term, index, type, data);
  }

  /** Only the term of an encoded entry, without copying its data. */
  public static long decodeEntryTerm(long index, byte[] v) {
    checkHeader(v, ENTRY_HEADER_LEN, "log entry " + index);
    return ByteBuffer.wrap(v).getLong(2);
  }

  public static byte[] encodeHardState(HardState hs) {
    return ByteBuffer.allocate(STATE_LEN).put(V1).putLong(hs.term()).putLong(hs.vote())
        .putLong(hs.commit()).array();
  }

  public static HardState decodeHardState(byte[] v) {
    checkHeader(v, STATE_LEN, "hard state");
    ByteBuffer b = ByteBuffer.wrap(v, 1, STATE_LEN - 1);
    return new HardState(b.getLong(), b.getLong(), b.getLong());
  }

  public static byte[] encodeApplyState(ApplyState s) {
    return ByteBuffer.allocate(STATE_LEN).put(V1).putLong(s.appliedIndex())
        .putLong(s.truncatedIndex()).putLong(s.truncatedTerm()).array();
  }

  public static ApplyState decodeApplyState(byte[] v) {
    checkHeader(v, STATE_LEN, "apply state");
    ByteBuffer b = ByteBuffer.wrap(v, 1, STATE_LEN - 1);
    return new ApplyState(b.getLong(), b.getLong(), b.getLong());
  }

  public static byte[] encodeLocalState(LocalState s) {
    SnapshotMetadata snap = s.snapshot();
    ByteBuffer b = ByteBuffer.allocate(
        1 + 16 + confStateLen(snap.confState()) + 8 + confStateLen(s.confState()));
    b.put(V1).putLong(snap.index()).putLong(snap.term());
    putConfState(b, snap.confState());
    b.putLong(s.confIndex());
    putConfState(b, s.confState());
    return b.array();
  }

  public static LocalState decodeLocalState(byte[] v) {
    checkHeader(v, 1, "local state");
    try {
      ByteBuffer b = ByteBuffer.wrap(v, 1, v.length - 1);
      long index = b.getLong();
      long term = b.getLong();
      SnapshotMetadata snap = new SnapshotMetadata(getConfState(b), index, term);
      long confIndex = b.getLong();
      return new LocalState(snap, getConfState(b), confIndex);
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new IllegalStateException("corrupt local state (" + v.length + " bytes)", e);
    }
  }

  private static int confStateLen(ConfState cs) {
    return 4 * 4 + 8 * (cs.voters().size() + cs.learners().size() + cs.votersOutgoing().size()
        + cs.learnersNext().size()) + 1;
  }

  private static void putConfState(ByteBuffer b, ConfState cs) {
    putIds(b, cs.voters());
    putIds(b, cs.learners());
    putIds(b, cs.votersOutgoing());
    putIds(b, cs.learnersNext());
    b.put(cs.autoLeave() ? (byte) 1 : (byte) 0);
  }

  private static ConfState getConfState(ByteBuffer b) {
    List<Long> voters = getIds(b);
    List<Long> learners = getIds(b);
    List<Long> outgoing = getIds(b);
    List<Long> learnersNext = getIds(b);
    return new ConfState(voters, learners, outgoing, learnersNext, b.get() != 0);
  }

  private static void putIds(ByteBuffer b, List<Long> ids) {
    b.putInt(ids.size());
    for (long id : ids) {
      b.putLong(id);
    }
  }

  private static List<Long> getIds(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0 || n > b.remaining() / 8) {
      throw new IllegalArgumentException("id count " + n);
    }
    List<Long> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(b.getLong());
    }
    return ids;
  }

  private static byte typeCode(EntryType type) {
    return switch (type) {
      case NORMAL -> TYPE_NORMAL;
      case CONF_CHANGE -> TYPE_CONF_CHANGE;
    };
  }

  private static EntryType entryType(byte code, long index) {
    return switch (code) {
      case TYPE_NORMAL -> EntryType.NORMAL;
      case TYPE_CONF_CHANGE -> EntryType.CONF_CHANGE;
      default -> throw new IllegalStateException(
          "corrupt log entry " + index + ": unknown entry type code " + code);
    };
  }

  private static void checkHeader(byte[] v, int minLen, String what) {
    if (v.length < minLen) {
      throw new IllegalStateException(
          "corrupt " + what + ": " + v.length + " bytes, expected at least " + minLen);
    }
    if (v[0] != V1) {
      throw new IllegalStateException(
          "unsupported " + what + " encoding version " + v[0] + " (this build reads " + V1 + ")");
    }
  }
}
