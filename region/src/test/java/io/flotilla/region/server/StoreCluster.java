package io.flotilla.region.server;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.GetRequest;
import io.flotilla.engine.proto.GetResponse;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.Put;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.ScanRequest;
import io.flotilla.engine.proto.ScanResponse;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.engine.testkit.InMemoryPd;
import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.peer.KeyRange;
import io.flotilla.region.storage.StorageConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Stores in one JVM on 127.0.0.1 (port 0, real Netty, real RocksDB in a temp dir) around an {@link
 * InMemoryPd}, with a tiny KV client that finds a key's region and leader from the stores
 * themselves (what the router will do with PD's help).
 */
final class StoreCluster implements AutoCloseable {
  final Path dir;
  final InMemoryPd pd = new InMemoryPd(42);
  final Map<Integer, Store> stores = new ConcurrentHashMap<>();
  final UnaryOperator<StoreConfig> tweak;
  final RpcClient client = new RpcClient(TransportConfig.defaults().withMaxFrameBytes(40 << 20).withIoThreads(1));

  StoreCluster(Path dir, int count, UnaryOperator<StoreConfig> tweak) {
    this.dir = dir;
    this.tweak = tweak;
    try {
      for (int i = 1; i <= count; i++) {
        start(i);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  static StoreConfig baseConfig(Path dataDir) {
    return StoreConfig.defaults(dataDir)
        .withListen(new InetSocketAddress("127.0.0.1", 0))
        .withPdRetryInterval(Duration.ofMillis(50))
        .withHeartbeats(Duration.ofMillis(200), Duration.ofMillis(200))
        .withSplit(96L << 20, 960_000, Duration.ofMillis(100))
        .withStorage(StorageConfig.defaults(dataDir.resolve("db")).withFsync(false).withBlockCacheBytes(8 << 20)
            .withWriteBuffers(8 << 20, 2))
        .withTransport(TransportConfig.defaults().withIoThreads(1).withHeartbeatIntervalMs(200)
            .withReconnectBackoffMs(50, 300))
        .withDriver(DriverConfig.defaults().withTickIntervalMs(50).withPollerThreads(1).withNodeDeadAfterMs(1_000)
            .withProposalTimeoutMs(5_000));
  }

  Store start(int i) {
    Store s = Store.start(tweak.apply(baseConfig(dir.resolve("store-" + i))), pd);
    stores.put(i, s);
    return s;
  }

  void stop(int i) {
    Store s = stores.remove(i);
    if (s != null) {
      s.close();
    }
  }

  /** Waits until some region holds {@code key} and a store leads it; returns that store. */
  Store leaderFor(byte[] key) {
    Store[] found = new Store[1];
    await().atMost(15, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(20)).until(() -> {
      found[0] = leaderForNow(key);
      return found[0] != null;
    });
    return found[0];
  }

  Store leaderForNow(byte[] key) {
    for (Store s : stores.values()) {
      for (Region r : s.regions()) {
        if (KeyRange.contains(r, key) && s.isLeader(r.getId())) {
          return s;
        }
      }
    }
    return null;
  }

  Store leaderOf(long regionId) {
    Store[] found = new Store[1];
    await().atMost(15, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(20)).until(() -> {
      for (Store s : stores.values()) {
        if (s.isLeader(regionId) && s.peer(regionId) != null && s.peer(regionId).initialized()) {
          found[0] = s;
          return true;
        }
      }
      return false;
    });
    return found[0];
  }

  static Region regionOf(Store s, byte[] key) {
    for (Region r : s.regions()) {
      if (KeyRange.contains(r, key)) {
        return r;
      }
    }
    throw new AssertionError("store " + s.storeId() + " has no region for the key");
  }

  static RequestContext ctx(Region r) {
    return RequestContext.newBuilder().setRegionId(r.getId()).setEpoch(r.getEpoch()).build();
  }

  byte[] call(Store s, String method, byte[] req) {
    try {
      return client.call(new InetSocketAddress("127.0.0.1", s.port()), method, req, Duration.ofSeconds(10))
          .get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(method + " to store " + s.storeId() + " failed: " + e, e);
    }
  }

  /** Sends the write to the leader of the key's region, retrying retryable errors. */
  WriteResponse write(byte[] routingKey, WriteRequest.Builder req) {
    return retry(() -> {
      Store s = leaderFor(routingKey);
      Region r = regionOf(s, routingKey);
      return WriteResponse.parseFrom(call(s, "kv.write", req.setContext(ctx(r)).build().toByteArray()));
    }, WriteResponse::getError);
  }

  WriteResponse put(String key, String value) {
    return write(bytes(key), WriteRequest.newBuilder().addMutations(Mutation.newBuilder()
        .setPut(Put.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)))));
  }

  GetResponse get(String key) {
    byte[] k = bytes(key);
    return retry(() -> {
      Store s = leaderFor(k);
      Region r = regionOf(s, k);
      return GetResponse.parseFrom(call(s, "kv.get", GetRequest.newBuilder().setContext(ctx(r))
          .setKey(ByteString.copyFrom(k)).build().toByteArray()));
    }, GetResponse::getError);
  }

  /** Scans [start, end) across regions (end empty: to the end), page by page. */
  List<String> scanAll(String start, String end, boolean reverse, int pageLimit) {
    List<String> out = new ArrayList<>();
    byte[] lo = bytes(start);
    byte[] hi = bytes(end);
    while (!KeyRange.isEmpty(lo, hi)) {
      // Forward: the region holding lo; reverse: the region holding the key just below hi.
      byte[] routing = reverse ? (hi.length == 0 ? null : hi) : lo;
      byte[] fLo = lo;
      byte[] fHi = hi;
      byte[] fRouting = routing;
      ScanResponse[] page = new ScanResponse[1];
      Region[] region = new Region[1];
      retry(() -> {
        Store s = !reverse ? leaderFor(fRouting) : fRouting == null ? lastRegionLeader() : leaderForBelow(fRouting);
        region[0] = !reverse ? regionOf(s, fRouting) : fRouting == null ? lastRegion(s) : regionBelow(s, fRouting);
        page[0] = ScanResponse.parseFrom(call(s, "kv.scan", ScanRequest.newBuilder().setContext(ctx(region[0]))
            .setStartKey(ByteString.copyFrom(fLo)).setEndKey(ByteString.copyFrom(fHi)).setLimit(pageLimit)
            .setReverse(reverse).build().toByteArray()));
        return page[0];
      }, ScanResponse::getError);
      page[0].getPairsList().forEach(p -> out.add(p.getKey().toStringUtf8() + "=" + p.getValue().toStringUtf8()));
      if (pageLimit > 0 && page[0].getPairsCount() == pageLimit) {
        byte[] last = page[0].getPairs(pageLimit - 1).getKey().toByteArray();
        if (reverse) {
          hi = last;
        } else {
          lo = KeyRange.successor(last);
        }
      } else if (reverse) {
        if (region[0].getStartKey().isEmpty()) {
          break;
        }
        hi = region[0].getStartKey().toByteArray();
      } else {
        if (region[0].getEndKey().isEmpty()) {
          break;
        }
        lo = region[0].getEndKey().toByteArray();
      }
    }
    return out;
  }

  private Store lastRegionLeader() {
    Store[] found = new Store[1];
    await().atMost(15, TimeUnit.SECONDS).until(() -> {
      for (Store s : stores.values()) {
        for (Region r : s.regions()) {
          if (r.getEndKey().isEmpty() && s.isLeader(r.getId())) {
            found[0] = s;
            return true;
          }
        }
      }
      return false;
    });
    return found[0];
  }

  private static Region lastRegion(Store s) {
    return s.regions().stream().filter(r -> r.getEndKey().isEmpty()).findFirst().orElseThrow();
  }

  private Store leaderForBelow(byte[] key) {
    Store[] found = new Store[1];
    await().atMost(15, TimeUnit.SECONDS).until(() -> {
      for (Store s : stores.values()) {
        for (Region r : s.regions()) {
          if (holdsBelow(r, key) && s.isLeader(r.getId())) {
            found[0] = s;
            return true;
          }
        }
      }
      return false;
    });
    return found[0];
  }

  private static boolean holdsBelow(Region r, byte[] key) {
    byte[] start = r.getStartKey().toByteArray();
    byte[] end = r.getEndKey().toByteArray();
    return KeyRange.compare(start, key) < 0 && (end.length == 0 || KeyRange.compare(key, end) <= 0);
  }

  private static Region regionBelow(Store s, byte[] key) {
    return s.regions().stream().filter(r -> holdsBelow(r, key)).findFirst().orElseThrow();
  }

  interface Call<T> {
    T run() throws InvalidProtocolBufferException;
  }

  /** Retries NotLeader, EpochNotMatch, RegionNotFound and ServerBusy for up to 15 s. */
  <T> T retry(Call<T> call, java.util.function.Function<T, KvError> error) {
    // NB: while a split applies, a store's region list may briefly not cover the key: retried too.
    return await().atMost(Duration.ofSeconds(15)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
        .ignoreExceptionsMatching(e -> e instanceof AssertionError
            && String.valueOf(e.getMessage()).contains("has no region"))
        .until(() -> {
          try {
            return call.run();
          } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("unparseable answer", e);
          }
        }, res -> {
          KvError e = error.apply(res);
          return !(e.hasNotLeader() || e.hasEpochNotMatch() || e.hasRegionNotFound() || e.hasServerBusy());
        });
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    client.close();
    for (int i : new ArrayList<>(stores.keySet())) {
      stop(i);
    }
  }
}
