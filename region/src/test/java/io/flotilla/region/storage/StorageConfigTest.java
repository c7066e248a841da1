package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class StorageConfigTest {
  @TempDir Path dir;
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(NodeStorage.class);

  @BeforeEach
  void captureLogs() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void release() {
    logger.detachAppender(logged);
  }

  @Test
  void defaultsAreValidAndSyncEveryWrite() {
    StorageConfig c = StorageConfig.defaults(dir).validate();
    assertThat(c.fsync()).isTrue();
  }

  @Test
  void validateNamesTheBadSetting() {
    StorageConfig ok = StorageConfig.defaults(dir);
    assertBad(StorageConfig.defaults(null), "dataDir");
    assertBad(ok.withEntryCache(-1, 10), "entryCacheBytesPerGroup");
    assertBad(ok.withEntryCache(100, 10), "entryCacheBytesTotal");
    assertBad(ok.withBlockCacheBytes(1000), "blockCacheBytes");
    assertBad(ok.withWriteBuffers(1000, 4), "writeBufferBytes");
    assertBad(ok.withWriteBuffers(64L << 20, 1), "maxWriteBuffers");
    assertBad(ok.withMaxBackgroundJobs(0), "maxBackgroundJobs");
  }

  @Test
  void openingWithoutFsyncLogsOneWarning() {
    NodeStorage.open(Fixtures.config(dir).withFsync(false)).close();

    List<ILoggingEvent> warnings =
        logged.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0).getFormattedMessage())
        .contains("fsync is off", "experiments only",
            "acknowledged writes can be lost on power failure", dir.toString());
  }

  @Test
  void openingWithFsyncLogsNoWarning() {
    NodeStorage.open(Fixtures.config(dir)).close();

    assertThat(logged.list).noneMatch(e -> e.getLevel() == Level.WARN);
  }

  private static void assertBad(StorageConfig config, String setting) {
    assertThatThrownBy(config::validate)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(setting + ":");
  }
}
