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
        assertThat(b.floor()).isEqualTo(expected.floor());
        for (long k : expected.answers().keySet()) {
          assertThat(b.answer(k)).as("answer of seq %d", k).isEqualTo(expected.answer(k));
        }
      }
    }
    DedupEntry built = b.build();
    assertThat(built).isEqualTo(expected);
    assertThat(built.answers().size()).isLessThanOrEqualTo(DedupEntry.MAX_ANSWERS);
  }

  /** The hand-written encoding is byte for byte the protobuf one (entries on disk stay readable). */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 42, 2024})
  void encodeWritesExactlyWhatTheProtobufMessageWould(long seed) throws Exception {
    SplittableRandom rnd = new SplittableRandom(seed);
    DedupEntry e = DedupEntry.EMPTY;
    for (int i = 0; i < 500; i++) {
      WriteResponse.Builder r = WriteResponse.newBuilder().setSucceeded(rnd.nextBoolean());
      if (rnd.nextInt(5) == 0) {
        r.setFailedMutation(rnd.nextInt(4)).setCurrentFound(true)
            .setCurrentValue(com.google.protobuf.ByteString.copyFromUtf8("v" + rnd.nextInt()));
      }
      e = e.with(1 + rnd.nextLong(1L << 40), r.build(), rnd.nextInt(3) == 0 ? 0 : 1);
      byte[] mine = e.encode();
      assertThat(mine).as("seed %d, entry %d", seed, i).isEqualTo(e.toProto().toByteArray());
      assertThat(DedupEntry.decode(mine)).isEqualTo(e);
    }
    assertThat(DedupEntry.EMPTY.encode()).isEqualTo(DedupEntry.EMPTY.toProto().toByteArray());
  }
}
