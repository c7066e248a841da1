package io.flotilla.pd;

import com.google.protobuf.ByteString;
import io.flotilla.engine.client.PdMethods;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.AddOperatorRequest;
import io.flotilla.engine.proto.AddOperatorResponse;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.RegionInfo;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Cuts the key space at given keys through PD's split operators (what {@code flotilla ctl region
 * split} does), for the bench's pre-split and for tests: one pass asks PD to split every region
 * holding a boundary that is not yet a region start; {@link #missing} says how many are left.
 *
 * <p>Threads: any; blocking.
 */
public final class RegionSplits {
  private RegionSplits() {}

  /** The regions PD knows, in key order. */
  public static List<RegionInfo> regions(RemotePdClient pd) {
    try {
      return pd.scanRegions(new byte[0], new byte[0], 0).get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while scanning regions", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("PD did not answer a region scan: " + e, e);
    }
  }

  /**
   * Asks PD to split, at each boundary that is not a region start in {@code regions}, the region
   * holding it (a refused ask, e.g. an operator already running there, is asked again next pass).
   * Returns how many boundaries were not yet region starts.
   */
  public static int splitMissing(RemotePdClient pd, List<RegionInfo> regions, List<byte[]> boundaries) {
    int missing = 0;
    for (byte[] b : boundaries) {
      RegionInfo holder = holderOf(regions, b);
      if (holder != null && !Arrays.equals(holder.getRegion().getStartKey().toByteArray(), b)) {
        missing++;
        AddOperatorRequest req = AddOperatorRequest.newBuilder().setRegionId(holder.getRegion().getId())
            .setKind(OperatorKind.OPERATOR_KIND_SPLIT).setSplitKey(ByteString.copyFrom(b)).build();
        pd.call(PdMethods.ADD_OPERATOR, req, AddOperatorResponse.parser(), AddOperatorResponse::getError);
      }
    }
    return missing;
  }

  /**
   * Splits until every boundary starts a region, polling PD (a cluster still bootstrapping is
   * waited for); throws if that takes over {@code timeout}.
   */
  public static void splitAt(RemotePdClient pd, List<byte[]> boundaries, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String why;
      try {
        int missing = splitMissing(pd, regions(pd), boundaries);
        if (missing == 0) {
          return;
        }
        why = missing + " still to split";
      } catch (IllegalStateException e) {
        why = e.getMessage();
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("splitting at " + boundaries.size() + " keys did not finish within "
            + timeout.toSeconds() + " s: " + why);
      }
      try {
        Thread.sleep(100); // NB: a poll of PD's region map, bounded by the deadline
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while splitting", e);
      }
    }
  }

  /** The region holding {@code key}, or null. */
  public static RegionInfo holderOf(List<RegionInfo> all, byte[] key) {
    for (RegionInfo r : all) {
      byte[] start = r.getRegion().getStartKey().toByteArray();
      byte[] end = r.getRegion().getEndKey().toByteArray();
      if (Arrays.compareUnsigned(start, key) <= 0 && (end.length == 0 || Arrays.compareUnsigned(key, end) < 0)) {
        return r;
      }
    }
    return null;
  }

}
