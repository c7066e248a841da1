package io.flotilla.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouterConfigTest {

  @Test
  void theDefaultsAreValidAndMatchTheStoresLimits() {
    RouterConfig c = RouterConfig.defaults(List.of(new InetSocketAddress("127.0.0.1", 2379)))
        .validate();
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.maxKeyBytes()).isEqualTo(8 * 1024);
    assertThat(c.maxValueBytes()).isEqualTo(8 * 1024 * 1024);
    assertThat(c.maxBatchBytes()).isEqualTo(16 * 1024 * 1024);
  }

  @Test
  void aBadSettingIsNamedWithItsRange() {
    assertThatThrownBy(() -> RouterConfig.defaults().withTimeout(Duration.ZERO).validate())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout (ms) must be in [1, 3600000], got 0");
    assertThatThrownBy(() -> RouterConfig.defaults().withScanPageSize(0).validate())
        .hasMessageContaining("scanPageSize");
    assertThatThrownBy(() -> RouterConfig.defaults()
        .withBackoff(Duration.ofMillis(100), Duration.ofMillis(10)).validate())
        .hasMessageContaining("backoffMax (ms) must be in [100, 600000], got 10");
    assertThatThrownBy(() -> RouterConfig.defaults().withLimits(0, 1, 1).validate())
        .hasMessageContaining("maxKeyBytes");
  }

  @Test
  void connectingWithoutPdAddressesIsRefused() {
    assertThatThrownBy(() -> KvClient.connect(RouterConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pdAddresses");
  }

  @Test
  void connectUsesTheEnginesPdClient() {
    // Nothing listens on port 1: every look-up fails, and the call ends at its deadline.
    RouterConfig config = RouterConfig.defaults(List.of(new InetSocketAddress("127.0.0.1", 1)))
        .withTimeout(Duration.ofMillis(300));
    try (KvClient kv = KvClient.connect(config)) {
      assertThatThrownBy(() -> kv.get("k")).isInstanceOf(DeadlineExceededException.class);
    }
  }

  @Test
  void theBackoffDoublesWithJitterUpToItsMaximum() {
    RetryBackoff lowest = new RetryBackoff(10, 80, () -> 0.0);
    RetryBackoff highest = new RetryBackoff(10, 80, () -> 0.999_999);
    long[] low = new long[6];
    long[] high = new long[6];
    for (int i = 0; i < 6; i++) {
      low[i] = lowest.nextDelayNanos();
      high[i] = highest.nextDelayNanos();
    }
    assertThat(low).containsExactly(5, 10, 20, 40, 40, 40);
    assertThat(high).containsExactly(9, 19, 39, 79, 79, 79);
  }
}
