package io.flotilla.region.txn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The memcomparable codec and the MVCC key layout: TiKV's byte layout, and (seeded, {@code
 * -Dflotilla.seed=N} replays) that the order of keys is kept with or without a timestamp suffix.
 */
class MemcomparableTest {
  private static final long SEED = Long.getLong("flotilla.seed", System.nanoTime());

  @RegisterExtension
  static final TestWatcher PRINT_SEED = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      System.out.printf("%s failed; replay with -Dflotilla.seed=%d%n", context.getDisplayName(), SEED);
    }
  };

  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s);
  }

  @Test
  void keysAreEncodedInEightByteGroupsEachFollowedByAMarkerAsTikvDoes() {
    // TiKV's codec::bytes tests
    assertThat(Memcomparable.encode(new byte[0])).isEqualTo(hex("0000000000000000f7"));
    assertThat(Memcomparable.encode(hex("010203"))).isEqualTo(hex("0102030000000000fa"));
    assertThat(Memcomparable.encode(hex("0102030405060708")))
        .isEqualTo(hex("0102030405060708ff0000000000000000f7"));
    assertThat(Memcomparable.encode(hex("010203040506070809")))
        .isEqualTo(hex("0102030405060708ff0900000000000000f8"));
    assertThat(Memcomparable.encodedLength(17)).isEqualTo(27);
  }

  @Test
  void decodingRefusesWhatNoKeyEncodesTo() {
    assertThatThrownBy(() -> Memcomparable.decode(hex("0102"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Memcomparable.decode(hex("0000000000000000f6")))
        .hasMessageContaining("marker");
    assertThatThrownBy(() -> Memcomparable.decode(hex("0102030000000001fa")))
        .hasMessageContaining("padding");
  }

  @Test
  void encodingKeepsOrderAndRoundTripsAndNoTimestampSuffixBreaksTheOrder() {
    Random rnd = new Random(SEED);
    for (int i = 0; i < 20_000; i++) {
      byte[] a = randomKey(rnd);
      byte[] b = rnd.nextInt(8) == 0 ? prefixVariant(rnd, a) : randomKey(rnd);
      int order = Integer.signum(Arrays.compareUnsigned(a, b));
      byte[] ea = Memcomparable.encode(a);
      byte[] eb = Memcomparable.encode(b);
      assertThat(Integer.signum(Arrays.compareUnsigned(ea, eb))).as("%s vs %s", hexOf(a), hexOf(b)).isEqualTo(order);
      assertThat(Memcomparable.decode(ea)).isEqualTo(a);
      assertThat(Memcomparable.encodedPrefixLength(ea)).isEqualTo(ea.length);
      long ta = randomTs(rnd);
      long tb = randomTs(rnd);
      byte[] ka = MvccKeys.writeKey(a, ta);
      byte[] kb = MvccKeys.writeKey(b, tb);
      int withTs = Integer.signum(Arrays.compareUnsigned(ka, kb));
      if (order != 0) {
        assertThat(withTs).as("%s@%d vs %s@%d", hexOf(a), ta, hexOf(b), tb).isEqualTo(order);
      } else {
        // one key: the newer timestamp sorts first
        assertThat(withTs).isEqualTo(Integer.signum(Long.compare(tb, ta)));
      }
      assertThat(MvccKeys.userKeyOf(ka)).isEqualTo(a);
      assertThat(MvccKeys.tsOf(ka)).isEqualTo(ta);
      assertThat(MvccKeys.hasPrefix(ka, ea)).isTrue();
      assertThat(Arrays.compareUnsigned(ka, MvccKeys.prefixEnd(ea))).isNegative();
      if (order < 0) {
        assertThat(Arrays.compareUnsigned(MvccKeys.prefixEnd(ea), kb)).as("prefix end below the next key")
            .isLessThanOrEqualTo(0);
      }
    }
  }

  /** Short keys over a small alphabet near the markers and zero, so prefixes and padding collide often. */
  private static byte[] randomKey(Random rnd) {
    byte[] alphabet = {0, 1, (byte) 0xf7, (byte) 0xf8, (byte) 0xfe, (byte) 0xff, 'a', 'b'};
    byte[] k = new byte[rnd.nextInt(20)];
    for (int i = 0; i < k.length; i++) {
      k[i] = rnd.nextInt(4) == 0 ? (byte) rnd.nextInt(256) : alphabet[rnd.nextInt(alphabet.length)];
    }
    return k;
  }

  /** {@code a} cut short, or extended by a byte, or equal. */
  private static byte[] prefixVariant(Random rnd, byte[] a) {
    return switch (rnd.nextInt(3)) {
      case 0 -> Arrays.copyOf(a, rnd.nextInt(a.length + 1));
      case 1 -> {
        byte[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = (byte) rnd.nextInt(256);
        yield b;
      }
      default -> a.clone();
    };
  }

  private static long randomTs(Random rnd) {
    return rnd.nextInt(4) == 0 ? rnd.nextInt(4) : (rnd.nextLong() >>> 2);
  }

  private static String hexOf(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
