package io.flotilla.engine.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core is a function of its inputs (STYLE.md rule 1): no file, socket, clock, thread, lock,
 * hidden randomness or logging anywhere under {@code engine.raft}. Scans the sources.
 *
 * <p>The sources are found relative to the working directory (the engine module or the
 * repository root), or at {@code -Dflotilla.raft.sources=<dir>}.
 */
class RaftPurityTest {
  private static final String PACKAGE_DIR = "src/main/java/io/flotilla/engine/raft";

  /** What may not appear in the core's code (comments and string literals are not code). */
  private static final List<Pattern> FORBIDDEN = Stream.of(
          "\\bjava\\.io\\.",
          "\\bjava\\.nio\\.file\\b",
          "\\bjava\\.net\\.",
          "\\bjava\\.util\\.concurrent\\b",
          "\\bjava\\.util\\.Random\\b",
          "\\bio\\.netty\\b",
          "\\borg\\.rocksdb\\b",
          "\\borg\\.slf4j\\b",
          "\\bSystem\\s*\\.\\s*nanoTime\\b",
          "\\bSystem\\s*\\.\\s*currentTimeMillis\\b",
          "\\bThread\\b",
          "\\bsynchronized\\b",
          "\\bnew\\s+Random\\b",
          "\\bMath\\s*\\.\\s*random\\b")
      .map(Pattern::compile)
      .toList();

  private static Path sourceDir() {
    String configured = System.getProperty("flotilla.raft.sources");
    if (configured != null) {
      return Path.of(configured);
    }
    for (String candidate : List.of(PACKAGE_DIR, "engine/" + PACKAGE_DIR)) {
      Path p = Path.of(candidate);
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    throw new AssertionError("cannot find the engine.raft sources from " + Path.of("").toAbsolutePath()
        + "; run from the engine module or the repository root, or set -Dflotilla.raft.sources");
  }

  /** The source with comments, string and char literals blanked out (line numbers kept). */
  static String code(String src) {
    StringBuilder out = new StringBuilder(src.length());
    int i = 0;
    while (i < src.length()) {
      char c = src.charAt(i);
      if (src.startsWith("//", i)) {
        while (i < src.length() && src.charAt(i) != '\n') {
          i++;
        }
      } else if (src.startsWith("/*", i)) {
        int end = src.indexOf("*/", i + 2);
        end = end < 0 ? src.length() : end + 2;
        for (; i < end; i++) {
          out.append(src.charAt(i) == '\n' ? '\n' : ' ');
        }
      } else if (src.startsWith("\"\"\"", i)) {
        int end = src.indexOf("\"\"\"", i + 3);
        end = end < 0 ? src.length() : end + 3;
        for (; i < end; i++) {
          out.append(src.charAt(i) == '\n' ? '\n' : ' ');
        }
      } else if (c == '"' || c == '\'') {
        out.append(' ');
        i++;
        while (i < src.length() && src.charAt(i) != c) {
          i += src.charAt(i) == '\\' ? 2 : 1;
          out.append(' ');
        }
        i++;
        out.append(' ');
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** Each forbidden use in {@code src} as {@code name:line: text}. */
  static List<String> violations(String name, String src) {
    List<String> found = new ArrayList<>();
    String[] lines = code(src).split("\n", -1);
    for (int n = 0; n < lines.length; n++) {
      for (Pattern p : FORBIDDEN) {
        Matcher m = p.matcher(lines[n]);
        if (m.find()) {
          found.add(name + ":" + (n + 1) + ": " + lines[n].strip());
        }
      }
    }
    return found;
  }

  // STYLE.md rule 1: time moves by tick(), randomness is injected, I/O belongs to the driver.
  @Test
  void coreUsesNoIoClockThreadsLocksRandomnessOrLogging() throws IOException {
    Path dir = sourceDir();
    List<String> found = new ArrayList<>();
    int files;
    try (Stream<Path> paths = Files.walk(dir)) {
      List<Path> sources = paths.filter(p -> p.toString().endsWith(".java")).sorted().toList();
      files = sources.size();
      for (Path p : sources) {
        try {
          found.addAll(violations(dir.relativize(p).toString(), Files.readString(p)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }

    assertThat(files).as("sources scanned under %s", dir).isGreaterThan(20);
    assertThat(found).as("impure code in engine.raft").isEmpty();
  }

  // The scanner itself catches what it must and ignores comments and strings.
  @Test
  void scannerFindsForbiddenUsesButNotCommentsOrStrings() {
    String impure = String.join("\n",
        "import java.io.File;",
        "import java.util.concurrent.atomic.AtomicLong;",
        "import org.slf4j.Logger;",
        "class X {",
        "  long t = System.nanoTime();",
        "  long u = System.currentTimeMillis();",
        "  synchronized void f() { new Thread(() -> {}).start(); }",
        "  double r = Math.random() + new Random(1).nextInt();",
        "  java.nio.file.Path p;",
        "}");
    assertThat(violations("X.java", impure)).hasSize(10);

    String pure = String.join("\n",
        "/** Driven by one thread; no java.io.File, no System.nanoTime(). */",
        "class Y {",
        "  // synchronized? never. Thread? no.",
        "  String s = \"java.net.Socket and \\\"Thread\\\"\";",
        "  char c = '\"';",
        "  java.nio.charset.Charset cs = java.nio.charset.StandardCharsets.US_ASCII;",
        "  int threadCount = 1;",
        "}");
    assertThat(violations("Y.java", pure)).isEmpty();
  }
}
