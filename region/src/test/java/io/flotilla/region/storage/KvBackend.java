package io.flotilla.region.storage;

import java.nio.file.Path;

/** A {@link KvReader} with its write path, over RocksDB or over {@link MemoryKv}: tests run on both. */
abstract class KvBackend implements AutoCloseable {
  abstract KvReader reader();

  abstract StorageBatch newBatch();

  abstract void write(StorageBatch batch);

  @Override
  public void close() {}

  /** Writes one batch filled by {@code fill}. */
  void write(java.util.function.Consumer<StorageBatch> fill) {
    try (StorageBatch b = newBatch()) {
      fill.accept(b);
      write(b);
    }
  }

  static KvBackend rocks(Path dir) {
    NodeStorage node = NodeStorage.open(Fixtures.config(dir).withFsync(false));
    return new KvBackend() {
      @Override
      KvReader reader() {
        return node.reader();
      }

      @Override
      StorageBatch newBatch() {
        return node.newBatch();
      }

      @Override
      void write(StorageBatch batch) {
        node.write(batch);
      }

      @Override
      public void close() {
        node.close();
      }

      @Override
      public String toString() {
        return "rocksdb";
      }
    };
  }

  static KvBackend memory() {
    MemoryKv kv = new MemoryKv();
    return new KvBackend() {
      @Override
      KvReader reader() {
        return kv;
      }

      @Override
      StorageBatch newBatch() {
        return kv.newBatch();
      }

      @Override
      void write(StorageBatch batch) {
        kv.write(batch);
      }

      @Override
      public String toString() {
        return "memory";
      }
    };
  }
}
