package io.flotilla.region.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class StoreConfigTest {
  private final StoreConfig defaults = StoreConfig.defaults(Path.of("/tmp/flotilla-store"));

  @Test
  void defaultsAreValidAndMatchTheDocumentedValues() {
    assertThat(defaults.validate()).isSameAs(defaults);
    assertThat(defaults.bootstrapReplicas()).isEqualTo(3);
    assertThat(defaults.maxKeyBytes()).isEqualTo(8 * 1024);
    assertThat(defaults.maxValueBytes()).isEqualTo(8 << 20);
    assertThat(defaults.maxWriteBytes()).isEqualTo(16 << 20);
    assertThat(defaults.scanPageSize()).isEqualTo(256);
    assertThat(defaults.splitSize()).isEqualTo(96L << 20);
    assertThat(defaults.splitKeys()).isEqualTo(960_000);
    assertThat(defaults.regionHeartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(defaults.storeHeartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void theTransportFrameIsRaisedToFitTheLargestWrite() {
    assertThat(defaults.transportConfig().maxFrameBytes()).isGreaterThan(defaults.maxWriteBytes());
    assertThat(defaults.storageConfig().dataDir()).isEqualTo(Path.of("/tmp/flotilla-store/db"));
  }

  @Test
  void aBadSettingIsNamedWithItsAllowedValues() {
    assertThatThrownBy(() -> defaults.withBootstrapReplicas(0).validate())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bootstrapReplicas")
        .hasMessageContaining("[1, 7]").hasMessageContaining("got 0");
    assertThatThrownBy(() -> defaults.withLimits(0, 1, 1).validate()).hasMessageContaining("maxKeyBytes");
    assertThatThrownBy(() -> defaults.withSplit(0, 1, Duration.ofSeconds(1)).validate())
        .hasMessageContaining("splitSize");
    assertThatThrownBy(() -> defaults.withHeartbeats(Duration.ZERO, Duration.ofSeconds(1)).validate())
        .hasMessageContaining("regionHeartbeatInterval").hasMessageContaining("positive");
  }
}
