package io.flotilla.region.split;

import io.flotilla.engine.proto.Region;
import io.flotilla.region.storage.Cf;
import io.flotilla.region.storage.KvReader;
import io.flotilla.region.storage.KvSnapshot;

/**
 * Measures a region's data by scanning its range: bytes (keys + values), key count and the key at
 * the middle of the bytes, the split key. Used at load or first leadership and after a split, when
 * the running estimate is unknown; writes are added to the estimate as they are applied.
 *
 * <p>Any thread (both passes read one {@link KvSnapshot}).
 */
public final class SplitScan {
  /** The measurements; {@code middleKey} is null when the region holds fewer than two keys. */
  public record Result(long bytes, long keys, byte[] middleKey) {}

  private SplitScan() {}

  public static Result scan(KvReader reader, Region region) {
    byte[] start = region.getStartKey().toByteArray();
    byte[] end = region.getEndKey().toByteArray();
    try (KvSnapshot snap = reader.snapshot()) {
      long[] total = {0, 0}; // bytes, keys
      snap.scan(Cf.DATA, start, end, at -> {
        total[0] += at.key().length + at.value().length;
        total[1]++;
        return true;
      });
      if (total[1] < 2) {
        return new Result(total[0], total[1], null);
      }
      // Second pass: the first key past half of the bytes (never the region's first key).
      long half = total[0] / 2;
      long[] seen = {0, 0}; // bytes, keys
      byte[][] middle = {null};
      snap.scan(Cf.DATA, start, end, at -> {
        byte[] k = at.key();
        if (seen[1] > 0 && seen[0] >= half) {
          middle[0] = k;
          return false;
        }
        seen[0] += k.length + at.value().length;
        seen[1]++;
        return true;
      });
      return new Result(total[0], total[1], middle[0]);
    }
  }
}
