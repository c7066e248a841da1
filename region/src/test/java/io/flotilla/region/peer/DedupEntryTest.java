package io.flotilla.region.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.proto.WriteResponse;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DedupEntryTest {

  /**
   * The rules, as a sorted map would keep them: the floor follows the client's oldest pending write
   * (never down), answers below it are forgotten, at most MAX_ANSWERS are kept (the oldest go and
   * the floor follows them).
   */
  private static final class Model {
    long floor;
    final java.util.TreeMap<Long, WriteResponse> answers = new java.util.TreeMap<>();

    void add(long seq, WriteResponse r, long minPending) {
      floor = Math.max(floor, minPending == 0 ? seq : Math.min(minPending, seq));
      answers.headMap(floor, false).clear();
      answers.put(seq, r);
      while (answers.size() > DedupEntry.MAX_ANSWERS) {
        answers.pollFirstEntry();
        floor = answers.firstKey();
      }
    }
  }

  /** The builder the apply path uses, and {@link DedupEntry#with}, keep what the rules say. */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 42, 2024})
  void builderAndWithKeepTheAnswersAndFloorTheRulesSay(long seed) {
    System.out.println("DedupEntryTest seed " + seed);
    SplittableRandom rnd = new SplittableRandom(seed);
    Model model = new Model();
    DedupEntry viaWith = DedupEntry.EMPTY;
    DedupEntry.Builder b = DedupEntry.EMPTY.toBuilder();
    long next = 1;
    for (int i = 0; i < 20_000; i++) {
      // Writes arrive out of order within a window; the client's oldest pending write trails them.
      long seq = next + rnd.nextInt(300);
      next += rnd.nextInt(3);
      long minPending = rnd.nextInt(10) == 0 ? 0 : Math.max(1, seq - rnd.nextInt(6_000));
      WriteResponse resp = WriteResponse.newBuilder().setSucceeded(rnd.nextBoolean()).build();
      model.add(seq, resp, minPending);
      b.add(seq, resp, minPending);
      if (i < 3_000) {
        viaWith = viaWith.with(seq, resp, minPending);
      }
      if (i % 997 == 0) {
        assertThat(b.floor()).as("seed %d step %d", seed, i).isEqualTo(model.floor);
        for (long k : model.answers.keySet()) {
          assertThat(b.answer(k)).as("answer of seq %d", k).isEqualTo(model.answers.get(k));
        }
      }
      if (i == 2_999) {
        assertThat(viaWith.floor()).isEqualTo(model.floor);
        assertThat(viaWith.answers()).isEqualTo(model.answers);
      }
    }
    DedupEntry built = b.build();
    assertThat(built.floor()).isEqualTo(model.floor);
    assertThat(built.answers()).isEqualTo(model.answers);
    assertThat(built.answerCount()).isLessThanOrEqualTo(DedupEntry.MAX_ANSWERS);
    // A builder taken from a built entry goes on from it.
    DedupEntry.Builder again = built.toBuilder();
    again.add(next + 1, WriteResponse.getDefaultInstance(), 0);
    model.add(next + 1, WriteResponse.getDefaultInstance(), 0);
    assertThat(again.build().answers()).isEqualTo(model.answers);
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
