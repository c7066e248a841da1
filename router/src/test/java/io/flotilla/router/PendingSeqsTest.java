package io.flotilla.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ring answers as a sorted set of pending seqs would, whatever the order writes finish in,
 * across growth past its first 1,024 slots. Seeded: a failure names its seed.
 */
class PendingSeqsTest {
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
  void theMinimumIsThatOfASortedSetOfPendingSeqs(long seed) {
    Random rnd = new Random(seed);
    PendingSeqs ring = new PendingSeqs();
    TreeSet<Long> model = new TreeSet<>();
    List<Long> inFlight = new ArrayList<>();
    for (int step = 0; step < 20_000; step++) {
      // Phases of growth (up to ~3,000 in flight) and of draining.
      boolean grow = (step / 2_500) % 2 == 0;
      if (inFlight.isEmpty() || (grow ? rnd.nextInt(10) < 7 : rnd.nextInt(10) < 3)) {
        long s = ring.next();
        assertThat(model.isEmpty() || s > model.last()).as("seed %d: seqs increase", seed).isTrue();
        model.add(s);
        inFlight.add(s);
      } else {
        // Mostly the oldest finishes first, sometimes any.
        int i = rnd.nextInt(4) == 0 ? rnd.nextInt(inFlight.size()) : 0;
        long s = inFlight.remove(i);
        ring.done(s);
        ring.done(s); // a repeat is ignored
        model.remove(s);
      }
      long own = model.isEmpty() ? Long.MAX_VALUE : model.last() + 1;
      long expected = model.isEmpty() ? own : Math.min(model.first(), own);
      assertThat(ring.min(own)).as("seed %d step %d", seed, step).isEqualTo(expected);
    }
    assertThat(ring.pending()).isEqualTo(model.size());
  }
}
