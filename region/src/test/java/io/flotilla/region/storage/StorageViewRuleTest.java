package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * RocksDB stays inside {@code region.storage} (DESIGN.md, "storage behind a view"): no other
 * package of the region module names {@code org.rocksdb}. Scans the sources, found relative to the
 * working directory (the region module or the repository root).
 */
class StorageViewRuleTest {
  private static final String SOURCES = "src/main/java/io/flotilla/region";

  @Test
  void noCodeOutsideRegionStorageNamesRocksDb() throws IOException {
    Path root = Stream.of(Path.of(SOURCES), Path.of("region", SOURCES)).filter(Files::isDirectory).findFirst()
        .orElseThrow(() -> new AssertionError("cannot find " + SOURCES + " from " + Path.of("").toAbsolutePath()));
    List<String> offenders;
    try (Stream<Path> files = Files.walk(root)) {
      offenders = files.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> !p.getParent().equals(root.resolve("storage")))
          .filter(StorageViewRuleTest::namesRocksDb)
          .map(p -> root.relativize(p).toString())
          .toList();
    }
    assertThat(Files.isDirectory(root.resolve("storage"))).isTrue();
    assertThat(offenders).as("files outside region.storage naming org.rocksdb").isEmpty();
  }

  private static boolean namesRocksDb(Path file) {
    try {
      return Files.readString(file).contains("org.rocksdb");
    } catch (IOException e) {
      throw new AssertionError("cannot read " + file, e);
    }
  }
}
