package io.flotilla.pd.schedule;

import io.flotilla.pd.operator.RegionView;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one scheduling round looks at: the stores and the regions (in key order) as of one moment.
 * Built by PD's service from its applied meta and the leader's in-memory statistics, or by tests
 * directly.
 */
public final class ClusterSnapshot {
  private final long nowMs;
  private final Map<Long, StoreView> stores = new TreeMap<>();
  private final List<RegionView> regions;
  private final Map<Long, RegionView> byId = new HashMap<>();

  public ClusterSnapshot(long nowMs, Collection<StoreView> stores, List<RegionView> regions) {
    this.nowMs = nowMs;
    for (StoreView s : stores) {
      this.stores.put(s.id(), s);
    }
    this.regions = List.copyOf(regions);
    for (RegionView r : regions) {
      byId.put(r.id(), r);
    }
  }

  public long nowMs() {
    return nowMs;
  }

  /** By id. */
  public Collection<StoreView> stores() {
    return stores.values();
  }

  public StoreView store(long id) {
    return stores.get(id);
  }

  public List<RegionView> regions() {
    return regions;
  }

  public RegionView region(long id) {
    return byId.get(id);
  }
}
