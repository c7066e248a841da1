package io.flotilla.region.peer;

import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.StorageBatch;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The de-duplication sessions one apply call of a region touched. A client with many writes in
 * flight has many answers remembered ({@link DedupEntry}); recording each write in a copy of its
 * entry and writing the whole entry per write cost O(answers) per write and dominated the apply
 * thread. Here every write of the call updates a mutable copy, and {@link #save} puts each changed
 * entry once into the peer's table and the round's batch, so data, answers and applied index still
 * become durable together.
 *
 * <p>{@link #save} must run before anything reads {@link RegionPeer#dedup} (a split copies it) and
 * at the end of the apply call. The applying thread of the region only.
 */
final class PendingSessions {
  private final Map<Long, DedupEntry.Builder> touched = new HashMap<>();
  private final Set<Long> changed = new LinkedHashSet<>();

  /** {@code client}'s session as of the writes applied so far, or null if it has none. */
  DedupEntry.Builder get(RegionPeer peer, long client) {
    DedupEntry.Builder b = touched.get(client);
    if (b == null) {
      DedupEntry stored = peer.dedup.get(client);
      if (stored == null) {
        return null;
      }
      b = stored.toBuilder();
      touched.put(client, b);
    }
    return b;
  }

  /** Records that {@code seq} of {@code client} applied with {@code response}. */
  void add(RegionPeer peer, long client, long seq, WriteResponse response, long minPending) {
    DedupEntry.Builder b = get(peer, client);
    if (b == null) {
      b = DedupEntry.EMPTY.toBuilder();
      touched.put(client, b);
    }
    b.add(seq, response, minPending);
    changed.add(client);
  }

  /**
   * Puts every changed session into {@code peer}'s table and {@code batch}, and forgets them all:
   * later writes start again from the table (an admin command may have changed it).
   */
  void save(RegionPeer peer, StorageBatch batch) {
    for (long client : changed) {
      DedupEntry entry = touched.get(client).build();
      peer.dedup.put(client, entry);
      batch.put(Cf.META, RegionRecords.dedupKey(peer.regionId(), client), RegionRecords.encodeDedup(entry));
    }
    changed.clear();
    touched.clear();
  }
}
