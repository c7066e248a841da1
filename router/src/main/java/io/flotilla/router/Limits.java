package io.flotilla.router;

/**
 * The client-side checks of key, value and batch sizes, with the store's limits: a request over
 * one is refused with {@link LimitExceededException} before anything is sent.
 */
final class Limits {

  static final String MAX_KEY_BYTES = "max-key-bytes";
  static final String MAX_VALUE_BYTES = "max-value-bytes";
  static final String MAX_BATCH_BYTES = "max-batch-bytes";

  private final RouterConfig config;

  Limits(RouterConfig config) {
    this.config = config;
  }

  void checkKey(byte[] key) {
    require(key, "key");
    if (key.length > config.maxKeyBytes()) {
      throw new LimitExceededException(MAX_KEY_BYTES, config.maxKeyBytes(), key.length,
          "key " + KvEntry.printable(java.util.Arrays.copyOf(key, 16)) + "...");
    }
  }

  void checkValue(byte[] key, byte[] value) {
    require(value, "value");
    if (value.length > config.maxValueBytes()) {
      throw new LimitExceededException(MAX_VALUE_BYTES, config.maxValueBytes(), value.length,
          "the value of key " + KvEntry.printable(key));
    }
  }

  /** A range bound may be empty (unbounded) but not longer than a key. */
  void checkBound(byte[] bound, String name) {
    require(bound, name);
    if (bound.length > config.maxKeyBytes()) {
      throw new LimitExceededException(MAX_KEY_BYTES, config.maxKeyBytes(), bound.length,
          "range bound '" + name + "'");
    }
  }

  void checkBatch(long bytes, int count, String what) {
    if (bytes > config.maxBatchBytes()) {
      throw new LimitExceededException(MAX_BATCH_BYTES, config.maxBatchBytes(), bytes,
          what + " of " + count + " keys");
    }
  }

  private static void require(byte[] b, String name) {
    if (b == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
  }
}
