package io.flotilla.region.driver;

import io.flotilla.engine.raft.Entry;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvSnapshot;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageBatch;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A test state machine that records every applied command under (group, index) in the data
 * column family, so tests can read back exactly what each replica applied.
 */
public final class LogStateMachine implements StateMachine<Long> {
  private final NodeStorage storage;

  public LogStateMachine(NodeStorage storage) {
    this.storage = storage;
  }

  static byte[] key(long group, long index) {
    return ByteBuffer.allocate(16).putLong(group).putLong(index).array();
  }

  /** What the proposer attached to each entry this replica applied as its proposer, by index (group 1 only). */
  final java.util.Map<Long, Object> attached = new java.util.concurrent.ConcurrentHashMap<>();

  @Override
  public List<Long> apply(long groupId, List<Entry> entries, List<Object> proposed, StorageBatch batch) {
    for (int i = 0; proposed != null && i < entries.size(); i++) {
      if (groupId == 1 && proposed.get(i) != null) {
        attached.put(entries.get(i).index(), proposed.get(i));
      }
    }
    return apply(groupId, entries, batch);
  }

  @Override
  public List<Long> apply(long groupId, List<Entry> entries, StorageBatch batch) {
    List<Long> results = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      if (e.data().length > 0) {
        batch.put(Cf.DATA, key(groupId, e.index()), e.data());
      }
      results.add(e.index());
    }
    return results;
  }

  /** Every command applied in a group on this node, in index order. */
  public List<byte[]> applied(long groupId) {
    List<byte[]> out = new ArrayList<>();
    forEach(groupId, (k, v) -> out.add(v));
    return out;
  }

  /** Every (key, value) the group applied, in index order. */
  private void forEach(long groupId, java.util.function.BiConsumer<byte[], byte[]> action) {
    try (KvSnapshot snap = storage.reader().snapshot()) {
      snap.scan(Cf.DATA, key(groupId, 0), key(groupId + 1, 0), at -> {
        action.accept(at.key(), at.value());
        return true;
      });
    }
  }

  /** Each group's first this many snapshot requests answer unavailable (a snapshot "being built"). */
  public volatile int unavailableFirst;
  /** Snapshot requests answered unavailable, by group. */
  public final java.util.Map<Long, Integer> unavailableAnswers = new java.util.concurrent.ConcurrentHashMap<>();
  /** Snapshots handed out, by group. */
  public final java.util.Map<Long, Integer> snapshotsServed = new java.util.concurrent.ConcurrentHashMap<>();

  @Override
  public io.flotilla.engine.raft.Snapshot snapshot(long groupId, io.flotilla.engine.raft.SnapshotMetadata appliedNow) {
    if (unavailableAnswers.getOrDefault(groupId, 0) < unavailableFirst) {
      unavailableAnswers.merge(groupId, 1, Integer::sum);
      throw new io.flotilla.engine.raft.UnavailableException("group " + groupId + ": snapshot being built (test)");
    }
    snapshotsServed.merge(groupId, 1, Integer::sum);
    return StateMachine.super.snapshot(groupId, appliedNow);
  }

  @Override
  public byte[] snapshot(long groupId) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      forEach(groupId, (k, v) -> {
        try {
          out.writeInt(k.length);
          out.write(k);
          out.writeInt(v.length);
          out.write(v);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** When set, {@link #prepareRestore} waits for it (a slow ingest). */
  public volatile java.util.concurrent.CountDownLatch prepareGate;
  /** Counted down when a {@link #prepareRestore} starts. */
  public final java.util.concurrent.CountDownLatch prepareEntered = new java.util.concurrent.CountDownLatch(1);
  /** The threads that ran {@link #prepareRestore}. */
  public final java.util.Set<String> prepareThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public void prepareRestore(long groupId, byte[] data) {
    prepareThreads.add(Thread.currentThread().getName());
    prepareEntered.countDown();
    java.util.concurrent.CountDownLatch gate = prepareGate;
    if (gate != null) {
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  @Override
  public void restore(long groupId, byte[] data, StorageBatch batch) {
    batch.deleteRange(Cf.DATA, key(groupId, 0), key(groupId + 1, 0));
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      while (in.available() > 0) {
        byte[] k = in.readNBytes(in.readInt());
        byte[] v = in.readNBytes(in.readInt());
        batch.put(Cf.DATA, k, v);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
