package io.flotilla.region.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.proto.WriteResponse;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DedupEntryTest {

  /** The builder the apply path uses applies the same rules as {@link DedupEntry#with}. */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 42, 2024})
  void builderKeepsTheSameAnswersAndFloorAsWith(long seed) {
    System.out.println("DedupEntryTest seed " + seed);
    SplittableRandom rnd = new SplittableRandom(seed);
    DedupEntry expected = DedupEntry.EMPTY;
    DedupEntry.Builder b = DedupEntry.EMPTY.toBuilder();
    long next = 1;
    for (int i = 0; i < 20_000; i++) {
      // Writes arrive out of order within a window; the client's oldest pending write trails them.
      long seq = next + rnd.nextInt(300);
      next += rnd.nextInt(3);
      long minPending = rnd.nextInt(10) == 0 ? 0 : Math.max(1, seq - rnd.nextInt(6_000));
      WriteResponse resp = WriteResponse.newBuilder().setSucceeded(rnd.nextBoolean()).build();
      expected = expected.with(seq, resp, minPending);
      b.add(seq, resp, minPending);
      if (i % 997 == 0) {
        assertThat(b.build()).isEqualTo(expected);
      }
    }
    assertThat(b.build()).isEqualTo(expected);
    assertThat(b.build().answers().size()).isLessThanOrEqualTo(DedupEntry.MAX_ANSWERS);
  }
}
