package io.flotilla.region.storage;

import org.rocksdb.RocksDBException;

/** {@link KvReader} over a node's RocksDB ({@link NodeStorage#reader()}). Any thread. */
final class RocksKvReader implements KvReader {
  private final GroupContext ctx;

  RocksKvReader(GroupContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public byte[] get(Cf cf, byte[] key) {
    ctx.checkOpen();
    RocksDatabase rdb = ctx.rdb();
    try {
      return rdb.db().get(rdb.handle(cf), key);
    } catch (RocksDBException e) {
      throw new StorageException("get in " + cf.familyName() + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public KvSnapshot snapshot() {
    ctx.checkOpen();
    return new RocksKvSnapshot(ctx.rdb());
  }
}
