package io.flotilla.region.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksObject;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB instance of a node with its column families and every native object their options
 * hold, closed together. Thread-safe (RocksDB is); {@link #close()} once, after all users stopped.
 */
final class RocksDatabase implements AutoCloseable {
  private static final long MIB = 1L << 20;
  private final RocksDB db;
  private final Map<Cf, ColumnFamilyHandle> handles;
  private final WriteOptions writeOptions;
  private final List<RocksObject> natives;

  private RocksDatabase(RocksDB db, Map<Cf, ColumnFamilyHandle> handles, WriteOptions writeOptions,
      List<RocksObject> natives) {
    this.db = db;
    this.handles = handles;
    this.writeOptions = writeOptions;
    this.natives = natives;
  }

  static RocksDatabase open(StorageConfig config) {
    RocksDB.loadLibrary();
    Path dir = config.dataDir();
    List<RocksObject> natives = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      checkKnownFamilies(dir);
      LRUCache blockCache = keep(natives, new LRUCache(config.blockCacheBytes()));
      BloomFilter bloom = keep(natives, new BloomFilter(10));
      DBOptions dbOptions = keep(natives, new DBOptions()
          .setCreateIfMissing(true)
          .setCreateMissingColumnFamilies(true)
          .setMaxBackgroundJobs(config.maxBackgroundJobs())
          // NB: a WAL file is deleted only once every family with data in it is flushed; a family
          // written rarely (default, meta) would otherwise pin every WAL since its last flush.
          .setMaxTotalWalSize(config.maxTotalWalBytes())
          // a restart replays the WAL into memtables and serves; no flush on the start-up path
          .setAvoidFlushDuringRecovery(true)
          .setBytesPerSync(MIB)
          .setKeepLogFileNum(4));
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      for (Cf cf : Cf.values()) {
        ColumnFamilyOptions cfOptions = keep(natives, familyOptions(cf, config, blockCache, bloom));
        descriptors.add(new ColumnFamilyDescriptor(cf.nameBytes(), cfOptions));
      }
      List<ColumnFamilyHandle> opened = new ArrayList<>();
      RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, opened);
      Map<Cf, ColumnFamilyHandle> handles = new EnumMap<>(Cf.class);
      for (int i = 0; i < opened.size(); i++) {
        handles.put(Cf.values()[i], opened.get(i));
      }
      WriteOptions writeOptions = keep(natives, new WriteOptions().setSync(config.fsync()));
      return new RocksDatabase(db, handles, writeOptions, natives);
    } catch (RocksDBException | IOException e) {
      closeAll(natives);
      throw new StorageException("cannot open RocksDB in " + dir + ": " + e.getMessage(), e);
    }
  }

  RocksDB db() {
    return db;
  }

  ColumnFamilyHandle handle(Cf cf) {
    return handles.get(cf);
  }

  /** Sync or not as configured: {@link StorageConfig#fsync()}. */
  WriteOptions writeOptions() {
    return writeOptions;
  }

  boolean syncWrites() {
    return writeOptions.sync();
  }

  @Override
  public void close() {
    for (ColumnFamilyHandle h : handles.values()) {
      h.close();
    }
    StorageException failure = null;
    if (!syncWrites()) {
      try {
        db.flushWal(true); // a clean shutdown loses nothing, even without per-write fsync
      } catch (RocksDBException e) {
        failure = new StorageException("syncing the WAL at close failed: " + e.getMessage(), e);
      }
    }
    try {
      db.closeE();
    } catch (RocksDBException e) {
      failure = failure != null ? failure
          : new StorageException("closing RocksDB failed: " + e.getMessage(), e);
    } finally {
      closeAll(natives);
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static ColumnFamilyOptions familyOptions(Cf cf, StorageConfig config, LRUCache blockCache,
      BloomFilter bloom) {
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setBlockCache(blockCache)
        .setFilterPolicy(bloom)
        .setCacheIndexAndFilterBlocks(true);
    // NB: the transaction families take no bytes on the raw path; small memtables keep their cost
    // low until transactions are used (and the WAL bound flushes them if written rarely).
    long writeBuffer = cf.isTxn() ? txnWriteBufferBytes(config) : config.writeBufferBytes();
    int writeBuffers = cf.isTxn() ? Math.min(2, config.maxWriteBuffers()) : config.maxWriteBuffers();
    return new ColumnFamilyOptions()
        .setWriteBufferSize(writeBuffer)
        .setMaxWriteBufferNumber(writeBuffers)
        // NB: raft log entries live briefly and are mostly read from the entry cache
        .setCompressionType(cf == Cf.RAFT ? CompressionType.NO_COMPRESSION : CompressionType.LZ4_COMPRESSION)
        .setTableFormatConfig(table);
  }

  /** The memtable size of {@link Cf#LOCK}, {@link Cf#WRITE} and {@link Cf#VERSION}: an eighth of the others', 64 KiB to 16 MiB. */
  static long txnWriteBufferBytes(StorageConfig config) {
    return Math.max(64 * 1024, Math.min(16 * MIB, config.writeBufferBytes() / 8));
  }

  /** Refuses a directory with a family this build does not know (written by a newer version). */
  private static void checkKnownFamilies(Path dir) throws RocksDBException {
    if (!Files.exists(dir.resolve("CURRENT"))) {
      return;
    }
    try (Options options = new Options()) {
      for (byte[] name : RocksDB.listColumnFamilies(options, dir.toString())) {
        if (Cf.byName(name) == null) {
          throw new IllegalStateException("data directory " + dir + " has column family '"
              + new String(name, StandardCharsets.UTF_8)
              + "' unknown to this build; open it with the version that wrote it");
        }
      }
    }
  }

  private static <T extends RocksObject> T keep(List<RocksObject> natives, T object) {
    natives.add(object);
    return object;
  }

  private static void closeAll(List<RocksObject> natives) {
    for (int i = natives.size() - 1; i >= 0; i--) {
      natives.get(i).close();
    }
  }
}
