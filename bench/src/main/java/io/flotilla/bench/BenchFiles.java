package io.flotilla.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** The data directory and result file of a benchmark run. */
public final class BenchFiles {
  private static final Logger LOG = LoggerFactory.getLogger(BenchFiles.class);

  private BenchFiles() {}

  /**
   * {@code requested} (created if missing, refused with a usage error if not empty), or a new temp
   * dir named {@code tempPrefix...} when it is null.
   */
  public static Path dataDir(Path requested, String tempPrefix, CommandLine cl) {
    try {
      if (requested == null) {
        return Files.createTempDirectory(tempPrefix);
      }
      if (Files.isDirectory(requested)) {
        try (Stream<Path> entries = Files.list(requested)) {
          if (entries.findAny().isPresent()) {
            throw new ParameterException(cl, "--dir " + requested + " is not empty");
          }
        }
      }
      return Files.createDirectories(requested);
    } catch (IOException e) {
      throw new BenchException("cannot create the data directory: " + e.getMessage(), e);
    }
  }

  /** Writes {@code result} as one JSON object, creating the parent directory. */
  public static void writeJson(Path file, Map<String, Object> result) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, Json.object(result), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BenchException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Removes a shutdown hook unless the JVM is already running it. */
  public static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs or has run already.
    }
  }

  /** Bytes of the regular files below {@code root}; 0 if it does not exist. */
  public static long sizeOf(Path root) {
    if (!Files.exists(root)) {
      return 0;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      return paths.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0; // deleted while walking (a compaction)
        }
      }).sum();
    } catch (IOException | UncheckedIOException e) {
      throw new BenchException("cannot measure " + root + ": " + e.getMessage(), e);
    }
  }

  /** Deletes {@code root} and everything below it; logs (and goes on) when it cannot. */
  public static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("could not delete the bench data in {}: {}", root, e.toString());
    }
  }
}
