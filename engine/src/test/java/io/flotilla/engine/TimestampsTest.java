package io.flotilla.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimestampsTest {

  @Test
  void aTimestampIsThePhysicalMsShiftedBy18BitsAndTheLogicalPart() {
    long ms = Instant.parse("2026-12-04T21:40:00.123Z").toEpochMilli();
    long ts = Timestamps.compose(ms, 5);

    assertThat(ts).isEqualTo(ms << 18 | 5);
    assertThat(Timestamps.physicalMs(ts)).isEqualTo(ms);
    assertThat(Timestamps.logical(ts)).isEqualTo(5);
    assertThat(Timestamps.instant(ts)).isEqualTo(Instant.ofEpochMilli(ms));
    assertThat(Timestamps.toString(ts)).isEqualTo("physical=2026-12-04T21:40:00.123Z logical=5");
  }

  @Test
  void theIsoFormKeepsItsMillisecondsWhenTheyAreZero() {
    long ts = Timestamps.compose(Instant.parse("2026-12-04T21:40:00Z").toEpochMilli(), 0);
    assertThat(Timestamps.physicalIso(ts)).isEqualTo("2026-12-04T21:40:00.000Z");
  }

  @Test
  void timestampsOrderByPhysicalThenLogical() {
    assertThat(Timestamps.compose(1_000, Timestamps.LOGICAL_LIMIT - 1)).isLessThan(Timestamps.compose(1_001, 0));
    assertThat(Timestamps.compose(Timestamps.MAX_PHYSICAL_MS, Timestamps.LOGICAL_LIMIT - 1)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void partsOutOfRangeAreRefusedNamingTheRange() {
    assertThatThrownBy(() -> Timestamps.compose(1, Timestamps.LOGICAL_LIMIT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("logical: must be in [0, 262143]");
    assertThatThrownBy(() -> Timestamps.compose(-1, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("physicalMs");
    assertThatThrownBy(() -> Timestamps.compose(Timestamps.MAX_PHYSICAL_MS + 1, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
