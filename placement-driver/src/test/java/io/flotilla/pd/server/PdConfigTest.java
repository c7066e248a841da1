package io.flotilla.pd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PdConfigTest {
  @TempDir Path dir;

  @Test
  void theDefaultsAreValid() {
    PdConfig c = PdConfig.singleMember(dir).validate();
    assertThat(c.maxStoreDownTimeMs()).isEqualTo(30 * 60 * 1000L);
    assertThat(c.idBatchSize()).isEqualTo(1_000);
    c.driverConfig().validate();
  }

  @Test
  void aBadSettingIsRefusedWithItsNameAndAllowedValues() {
    PdConfig ok = PdConfig.singleMember(dir);
    assertRefused(ok.withMembers(Map.of(1L, "127.0.0.1:2001", 2L, "127.0.0.1:2002")), "members", "1, 3 or 5");
    assertRefused(ok.withMembers(Map.of(2L, "127.0.0.1:2002", 3L, "127.0.0.1:2003", 4L, "127.0.0.1:2004")),
        "members", "memberId 1");
    assertRefused(ok.withMembers(Map.of(1L, "127.0.0.1:2001", 2L, "nowhere", 3L, "127.0.0.1:2003")),
        "members", "host:port");
    assertRefused(ok.withMembers(Map.of(1L, "127.0.0.1:2001", 2L, "127.0.0.1:2002", 3L, "127.0.0.1:2003")),
        "listenAddress", "fixed port");
    assertRefused(ok.withListenAddress("localhost"), "listenAddress", "host:port");
    assertRefused(ok.withMemberId(0), "memberId", ">= 1");
    assertRefused(ok.withTicks(10, 2), "electionTicks", "[5, 1000]");
    assertRefused(ok.withTicks(0, 10), "tickIntervalMs", "[1, 10000]");
    assertRefused(ok.withIdBatchSize(0), "idBatchSize", "[1, 1000000]");
    assertRefused(ok.withMaxStoreDownTimeMs(0), "maxStoreDownTimeMs", "[1, 604800000]");
    assertRefused(ok.withRequestTimeoutMs(1), "requestTimeoutMs", "[10, 600000]");
    assertRefused(ok.withDataDir(null), "dataDir", "required");
  }

  @Test
  void aServerWithABadConfigRefusesToStartAndTouchesNothing() {
    Path data = dir.resolve("never");
    assertThatThrownBy(() -> PdServer.start(PdConfig.singleMember(data).withTicks(10, 3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("electionTicks");
    assertThat(Files.exists(data)).isFalse();
  }

  private static void assertRefused(PdConfig c, String setting, String allowed) {
    assertThatThrownBy(c::validate)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(setting + ":")
        .hasMessageContaining(allowed);
  }
}
