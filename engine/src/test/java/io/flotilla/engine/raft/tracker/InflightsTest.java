package io.flotilla.engine.raft.tracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class InflightsTest {

  @Test
  void addFillsTheWindowAndRefusesBeyondCapacity() {
    Inflights in = new Inflights(3);
    in.add(1);
    in.add(2);
    assertThat(in.full()).isFalse();
    in.add(3);
    assertThat(in.full()).isTrue();
    assertThat(in.count()).isEqualTo(3);
    assertThatThrownBy(() -> in.add(4))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("index 4").hasMessageContaining("capacity 3");
  }

  @Test
  void freeLEFreesEveryIndexUpToTheAcknowledgedOne() {
    Inflights in = new Inflights(10);
    for (long i = 1; i <= 5; i++) {
      in.add(i * 10);
    }
    in.freeLE(5);
    assertThat(in.count()).as("nothing at or below 5").isEqualTo(5);
    in.freeLE(25);
    assertThat(in.count()).isEqualTo(3);
    assertThat(in).hasToString("Inflights[30 40 50]/10");
    in.freeLE(50);
    assertThat(in.count()).isZero();
  }

  @Test
  void windowWrapsAroundTheRingBuffer() {
    Inflights in = new Inflights(4);
    long last = 0;
    for (int round = 0; round < 10; round++) {
      while (!in.full()) {
        in.add(++last);
      }
      in.freeLE(last - 2); // two stay in flight
      assertThat(in.count()).isEqualTo(2);
    }
    assertThat(in).hasToString("Inflights[" + (last - 1) + " " + last + "]/4");
    in.freeLE(last);
    assertThat(in.count()).isZero();
    assertThat(in.full()).isFalse();
  }

  @Test
  void freeFirstOneFreesOnlyTheOldest() {
    Inflights in = new Inflights(3);
    in.freeFirstOne(); // empty: nothing to free
    in.add(4);
    in.add(6);
    in.add(9);
    in.freeFirstOne();
    assertThat(in).hasToString("Inflights[6 9]/3");
    assertThat(in.full()).isFalse();
  }

  @Test
  void resetEmptiesTheWindow() {
    Inflights in = new Inflights(2);
    in.add(1);
    in.add(2);
    in.reset();
    assertThat(in.count()).isZero();
    assertThat(in.full()).isFalse();
    in.add(7);
    assertThat(in).hasToString("Inflights[7]/2");
  }

  @Test
  void copyIsIndependent() {
    Inflights in = new Inflights(3);
    in.add(1);
    Inflights c = in.copy();
    c.add(2);
    c.add(3);
    assertThat(c.full()).isTrue();
    assertThat(in.count()).isEqualTo(1);
    in.freeLE(1);
    assertThat(c.count()).isEqualTo(3);
  }

  @Test
  void capacityMustBePositive() {
    assertThatThrownBy(() -> new Inflights(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
  }

  /** The buffer grows on demand: whatever the pattern of adds and frees, it holds what a queue would. */
  @org.junit.jupiter.params.ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.ValueSource(longs = {1, 2, 3, 4, 5})
  void aGrowingBufferHoldsWhatAQueueWould(long seed) {
    java.util.Random rnd = new java.util.Random(seed);
    int capacity = 1 + rnd.nextInt(300);
    Inflights in = new Inflights(capacity);
    java.util.ArrayDeque<Long> model = new java.util.ArrayDeque<>();
    long next = 1;
    for (int step = 0; step < 20_000; step++) {
      int op = rnd.nextInt(10);
      if (op < 6 && !in.full()) {
        next += 1 + rnd.nextInt(3);
        in.add(next);
        model.addLast(next);
      } else if (op < 9) {
        long upTo = next - rnd.nextInt(20);
        in.freeLE(upTo);
        model.removeIf(i -> i <= upTo);
      } else {
        in.freeFirstOne();
        model.pollFirst();
      }
      assertThat(in.count()).as("seed %d step %d", seed, step).isEqualTo(model.size());
      assertThat(in.full()).isEqualTo(model.size() == capacity);
    }
    Inflights copy = in.copy();
    assertThat(copy.toString()).isEqualTo(in.toString());
    assertThat(in.toString()).startsWith("Inflights[" + String.join(" ", model.stream().map(String::valueOf).toList()));
  }

  @Test
  void aNewWindowHoldsNoBufferUntilItsFirstAppend() throws Exception {
    java.lang.reflect.Field f = Inflights.class.getDeclaredField("buffer");
    f.setAccessible(true);
    Inflights in = new Inflights(256);
    assertThat(((long[]) f.get(in)).length).isZero();
    in.add(1);
    assertThat(((long[]) f.get(in)).length).isBetween(1, 8);
  }
}
