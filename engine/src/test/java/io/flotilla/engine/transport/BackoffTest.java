package io.flotilla.engine.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void delaysDoubleUpToTheCapWithinTheirJitterBand() {
    Backoff lowest = new Backoff(100, 5_000, () -> 0.0);
    Backoff highest = new Backoff(100, 5_000, () -> 1.0);
    List<Long> low = new ArrayList<>();
    List<Long> high = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      low.add(lowest.nextDelayMs());
      high.add(highest.nextDelayMs());
    }
    assertThat(high).containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L, 5000L,
        5000L);
    assertThat(low).containsExactly(50L, 100L, 200L, 400L, 800L, 1600L, 2500L, 2500L, 2500L,
        2500L);
  }

  @Test
  void resetStartsOverAndManyFailuresDoNotOverflow() {
    Backoff backoff = new Backoff(1, Long.MAX_VALUE / 4, () -> 1.0);
    for (int i = 0; i < 1_000; i++) {
      assertThat(backoff.nextDelayMs()).isPositive();
    }
    backoff.reset();
    assertThat(backoff.nextDelayMs()).isEqualTo(1);
  }
}
