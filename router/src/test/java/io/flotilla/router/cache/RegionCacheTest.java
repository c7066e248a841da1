package io.flotilla.router.cache;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import java.util.List;
import org.junit.jupiter.api.Test;

class RegionCacheTest {

  private final RegionCache cache = new RegionCache();

  @Test
  void aKeyIsFoundInTheRegionWhoseRangeHoldsIt() {
    cache.put(region(1, "", "g", 1), null);
    cache.put(region(2, "g", "p", 1), null);
    cache.put(region(3, "x", "", 1), null); // [p, x) is not cached

    assertThat(cache.find(b("")).id()).isEqualTo(1);
    assertThat(cache.find(b("f\u00ff")).id()).isEqualTo(1);
    assertThat(cache.find(b("g")).id()).isEqualTo(2);
    assertThat(cache.find(b("p"))).isNull();
    assertThat(cache.find(b("x")).id()).isEqualTo(3);
    assertThat(cache.find(new byte[] {(byte) 0xff, (byte) 0xff}).id()).isEqualTo(3);
  }

  @Test
  void theRegionBeforeACursorHoldsTheKeysJustBelowIt() {
    cache.put(region(1, "", "g", 1), null);
    cache.put(region(2, "g", "p", 1), null);
    cache.put(region(3, "x", "", 1), null);

    assertThat(cache.findBefore(b("g")).id()).isEqualTo(1);
    assertThat(cache.findBefore(b("h")).id()).isEqualTo(2);
    assertThat(cache.findBefore(b("p")).id()).isEqualTo(2);
    assertThat(cache.findBefore(b("q"))).isNull();
    assertThat(cache.findBefore(b(""))).extracting(CachedRegion::id).isEqualTo(3L);
    assertThat(cache.findBefore(b("\u0001"))).extracting(CachedRegion::id).isEqualTo(1L);
  }

  @Test
  void aRegionReplacesEveryEntryItOverlaps() {
    cache.put(region(1, "", "g", 1), null);
    cache.put(region(2, "g", "p", 1), null);
    cache.put(region(3, "p", "", 1), null);

    cache.put(region(9, "f", "q", 1), null);

    assertThat(cache.regions()).extracting(CachedRegion::id).containsExactly(9L);
    assertThat(cache.byId(1)).isNull();
  }

  @Test
  void anOlderEpochOfACachedRegionIsRefused() {
    cache.put(region(1, "", "m", 2), null);
    cache.put(region(5, "m", "", 2), null);

    assertThat(cache.put(region(1, "", "", 1), null)).isNull();

    assertThat(cache.regions()).extracting(CachedRegion::id).containsExactly(1L, 5L);
  }

  @Test
  void leadersMoveToHintsAndToTheNextVoterSkippingLearners() {
    Region r = region(1, "", "", 1).toBuilder()
        .setPeers(1, Peer.newBuilder().setId(12).setStoreId(2)
            .setRole(PeerRole.PEER_ROLE_LEARNER))
        .build();
    cache.put(r, null);
    assertThat(cache.byId(1).target().getId()).isEqualTo(11);

    cache.tryNextPeer(1, cache.byId(1).target());
    assertThat(cache.byId(1).target().getId()).isEqualTo(13);
    cache.tryNextPeer(1, cache.byId(1).target());
    assertThat(cache.byId(1).target().getId()).isEqualTo(11);

    cache.updateLeader(1, r.getPeers(2));
    assertThat(cache.find(b("k")).leader().getId()).isEqualTo(13);
    // A reload without a leader keeps the known one.
    cache.put(r, null);
    assertThat(cache.byId(1).leader().getId()).isEqualTo(13);
  }

  @Test
  void anEpochMismatchInstallsTheCurrentRegionsLedFromTheAnsweringStore() {
    cache.put(region(1, "", "", 1), null);

    cache.onEpochNotMatch(1, List.of(region(1, "", "m", 2), region(5, "m", "", 2)), 3);

    assertThat(cache.regions()).extracting(CachedRegion::id).containsExactly(1L, 5L);
    assertThat(cache.find(b("z")).leader().getStoreId()).isEqualTo(3);

    cache.onEpochNotMatch(5, List.of(), 3);
    assertThat(cache.find(b("z"))).isNull();
  }

  @Test
  void keysCompareAsUnsignedBytes() {
    assertThat(Keys.compare(new byte[] {(byte) 0x80}, new byte[] {0x7f})).isPositive();
    assertThat(Keys.compare(b("a"), b("a\u0000"))).isNegative();
    assertThat(Keys.successor(b("a"))).isEqualTo(new byte[] {'a', 0});
    assertThat(Keys.minEnd(b(""), b("k"))).isEqualTo(b("k"));
    assertThat(Keys.endCovers(b(""), b("k"))).isTrue();
    assertThat(Keys.endCovers(b("k"), b(""))).isFalse();
  }

  static Region region(long id, String start, String end, long version) {
    Region.Builder r = Region.newBuilder()
        .setId(id)
        .setStartKey(ByteString.copyFromUtf8(start))
        .setEndKey(ByteString.copyFromUtf8(end))
        .setEpoch(RegionEpoch.newBuilder().setVersion(version).setConfVer(1));
    for (int s = 1; s <= 3; s++) {
      r.addPeers(Peer.newBuilder().setId(id * 10 + s).setStoreId(s));
    }
    return r.build();
  }

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }
}
