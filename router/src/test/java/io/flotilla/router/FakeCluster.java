package io.flotilla.router;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.flotilla.engine.proto.BatchGetRequest;
import io.flotilla.engine.proto.BatchGetResponse;
import io.flotilla.engine.proto.CompareAndSet;
import io.flotilla.engine.proto.EpochNotMatch;
import io.flotilla.engine.proto.GetRequest;
import io.flotilla.engine.proto.GetResponse;
import io.flotilla.engine.proto.KeyNotInRegion;
import io.flotilla.engine.proto.KvError;
import io.flotilla.engine.proto.KvPair;
import io.flotilla.engine.proto.Mutation;
import io.flotilla.engine.proto.NotLeader;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RegionNotFound;
import io.flotilla.engine.proto.RequestContext;
import io.flotilla.engine.proto.ScanRequest;
import io.flotilla.engine.proto.ScanResponse;
import io.flotilla.engine.proto.StaleSequence;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.WriteRequest;
import io.flotilla.engine.proto.WriteResponse;
import io.flotilla.engine.testkit.InMemoryPd;
import io.flotilla.engine.transport.RemoteRpcException;
import io.flotilla.engine.transport.RpcErrorCode;
import io.flotilla.engine.transport.RpcTimeoutException;
import io.flotilla.engine.transport.TransportException;
import io.flotilla.router.cache.Keys;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An in-process cluster for router tests: stores that serve the kv.* RPCs from one in-memory sorted
 * map, cut into regions with epochs and leaders, checked the way a real store checks them
 * (RegionNotFound, NotLeader with a hint, EpochNotMatch with the current regions, KeyNotInRegion),
 * writes de-duplicated as a store does (per region and client, the last seq and its answer; a lower
 * seq is refused with StaleSequence; a split copies the table), and an {@link InMemoryPd} whose
 * view of the regions may lag behind the stores'.
 *
 * <p>As a {@link StoreRpc} it calls stores in-process; {@link #handle} serves a request for a real
 * transport (see {@code RealTransportTest}). An {@link Interceptor} decides per request whether it
 * is served, dropped (no answer ever), applied but unanswered, answered with a given KvError (and
 * not applied), or failed.
 *
 * <p>Threads: any; the state is guarded by the cluster's monitor.
 */
final class FakeCluster implements StoreRpc, AutoCloseable {

  static final int STORES = 3;
  static final int BASE_PORT = 20_000;

  /** What happens to one request. */
  record Action(Kind kind, RuntimeException error, KvError answer) {
    enum Kind { SERVE, DROP, APPLY_THEN_DROP, ANSWER_ERROR, HANDLER_FAILS, TRANSPORT_FAILS }

    static final Action SERVE = new Action(Kind.SERVE, null, null);
    static final Action DROP = new Action(Kind.DROP, null, null);
    static final Action APPLY_THEN_DROP = new Action(Kind.APPLY_THEN_DROP, null, null);

    /** The store answers {@code error} in the method's response, and does nothing else. */
    static Action answer(KvError error) {
      return new Action(Kind.ANSWER_ERROR, null, error);
    }

    static Action handlerFails(String message) {
      return new Action(Kind.HANDLER_FAILS, new IllegalStateException(message), null);
    }

    static Action transportFails(TransportException e) {
      return new Action(Kind.TRANSPORT_FAILS, e, null);
    }
  }

  @FunctionalInterface
  interface Interceptor {
    Action decide(long storeId, String method, Message request);
  }

  /** A request a store received. */
  record Received(long storeId, String method, Message request) {}

  private final NavigableMap<byte[], byte[]> data = new TreeMap<>(Keys.ORDER);
  private final NavigableMap<byte[], Region> regions = new TreeMap<>(Keys.ORDER);
  private final Map<Long, Region> regionsById = new HashMap<>();
  private final Map<Long, Long> leaderStore = new HashMap<>();
  private final Map<Long, Long> parentOf = new HashMap<>();
  /** As a store keeps it: per region, per client, the last applied seq and its answer. */
  private final Map<Long, Map<Long, Map.Entry<Long, byte[]>>> dedup = new HashMap<>();
  private final Map<KvError.KindCase, Integer> errorsAnswered = new HashMap<>();
  private final Map<Long, InetSocketAddress> addresses = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "fake-cluster-timer");
    t.setDaemon(true);
    return t;
  });
  final CopyOnWriteArrayList<Received> received = new CopyOnWriteArrayList<>();
  final InMemoryPd pd = new InMemoryPd(1);
  private volatile Interceptor interceptor = (s, m, r) -> Action.SERVE;
  private volatile Runnable afterScan = () -> {};
  private boolean hideLeaderHints;
  private boolean pdFollows = true;
  private long nextId = 100;
  private long applies;

  /** One region [-inf, +inf) on stores 1..3, led by store 1. */
  FakeCluster() {
    for (long s = 1; s <= STORES; s++) {
      setAddress(s, new InetSocketAddress("127.0.0.1", BASE_PORT + (int) s));
    }
    Region first = Region.newBuilder()
        .setId(1)
        .setEpoch(RegionEpoch.newBuilder().setVersion(1).setConfVer(1))
        .addAllPeers(newPeers())
        .build();
    regions.put(Keys.EMPTY, first);
    regionsById.put(1L, first);
    leaderStore.put(1L, 1L);
    syncPd();
  }

  // ---- setup and faults ----

  synchronized void setPdFollows(boolean follows) {
    this.pdFollows = follows;
  }

  synchronized void setHideLeaderHints(boolean hide) {
    this.hideLeaderHints = hide;
  }

  void setInterceptor(Interceptor i) {
    this.interceptor = i;
  }

  /** Runs after each served scan page, before its answer goes back (under the cluster's lock). */
  void setAfterScan(Runnable r) {
    this.afterScan = r;
  }

  void setAddress(long storeId, InetSocketAddress address) {
    addresses.put(storeId, address);
    pd.stores.put(storeId, Store.newBuilder().setId(storeId)
        .setAddress(address.getHostString() + ":" + address.getPort()).build());
  }

  InetSocketAddress address(long storeId) {
    return addresses.get(storeId);
  }

  /** Splits the region holding {@code splitKey} there; the new right half has a new id. */
  synchronized Region split(byte[] splitKey) {
    Region r = regionHolding(splitKey);
    if (Keys.compare(r.getStartKey().toByteArray(), splitKey) == 0) {
      return null;
    }
    RegionEpoch epoch = r.getEpoch().toBuilder().setVersion(r.getEpoch().getVersion() + 1).build();
    Region left = r.toBuilder().setEndKey(ByteString.copyFrom(splitKey)).setEpoch(epoch).build();
    Region right = Region.newBuilder()
        .setId(nextId++)
        .setStartKey(ByteString.copyFrom(splitKey))
        .setEndKey(r.getEndKey())
        .setEpoch(epoch)
        .addAllPeers(newPeers())
        .build();
    put(left);
    put(right);
    leaderStore.put(right.getId(), leaderStore.get(left.getId()));
    parentOf.put(right.getId(), left.getId());
    dedup.put(right.getId(), new HashMap<>(dedup.getOrDefault(left.getId(), Map.of())));
    if (pdFollows) {
      syncPd();
    }
    return right;
  }

  /** Splits at each key, in order. */
  synchronized void splitAt(byte[]... keys) {
    for (byte[] k : keys) {
      split(k);
    }
  }

  synchronized void transferLeader(long regionId, long toStore) {
    leaderStore.put(regionId, toStore);
    if (pdFollows) {
      syncPd();
    }
  }

  synchronized Region regionHolding(byte[] key) {
    return regions.floorEntry(key).getValue();
  }

  synchronized List<Region> regions() {
    return new ArrayList<>(regions.values());
  }

  synchronized long leaderOf(long regionId) {
    return leaderStore.get(regionId);
  }

  synchronized Peer leaderPeer(long regionId) {
    return peerOn(regionsById.get(regionId), leaderStore.get(regionId));
  }

  /** Mutations applied so far (de-duplicated retries not counted). */
  synchronized long applies() {
    return applies;
  }

  synchronized NavigableMap<byte[], byte[]> data() {
    return new TreeMap<>(data);
  }

  synchronized void load(Map<byte[], byte[]> entries) {
    data.putAll(entries);
  }

  List<Received> received(String method) {
    return received.stream().filter(r -> r.method().equals(method)).toList();
  }

  // ---- RPC ----

  /** In-process call: a dropped request fails with RpcTimeoutException at the deadline. */
  @Override
  public CompletableFuture<byte[]> call(InetSocketAddress address, String method, byte[] request,
      Duration deadline) {
    Long storeId = storeAt(address);
    if (storeId == null) {
      return CompletableFuture.failedFuture(new io.flotilla.engine.transport
          .ConnectionLostException(address.toString(), false, "connection refused"));
    }
    CompletableFuture<byte[]> served = handle(storeId, method, request, true);
    CompletableFuture<byte[]> answer = new CompletableFuture<>();
    served.whenComplete((bytes, error) -> {
      if (error == null) {
        answer.complete(bytes);
      } else {
        Throwable cause = RegionCall.unwrap(error);
        answer.completeExceptionally(cause instanceof TransportException ? cause
            : new RemoteRpcException(RpcErrorCode.HANDLER_FAILED, cause.toString()));
      }
    });
    timer.schedule(() -> answer.completeExceptionally(
            new RpcTimeoutException(address.toString(), method, deadline.toMillis())),
        deadline.toMillis(), TimeUnit.MILLISECONDS);
    return answer;
  }

  /**
   * Serves {@code request} as store {@code storeId}. A dropped request's future never completes;
   * a failure completes it exceptionally (the transport answers HANDLER_FAILED with it).
   */
  CompletableFuture<byte[]> handle(long storeId, String method, byte[] request,
      boolean transportFailuresAllowed) {
    Message parsed;
    try {
      parsed = parse(method, request);
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.failedFuture(e);
    }
    received.add(new Received(storeId, method, parsed));
    Action action = interceptor.decide(storeId, method, parsed);
    switch (action.kind()) {
      case DROP:
        return new CompletableFuture<>();
      case ANSWER_ERROR:
        return CompletableFuture.completedFuture(errorResponse(method, action.answer()));
      case HANDLER_FAILS:
        return CompletableFuture.failedFuture(action.error());
      case TRANSPORT_FAILS:
        if (!transportFailuresAllowed) {
          throw new IllegalStateException("a real transport cannot fake " + action.error());
        }
        return CompletableFuture.failedFuture(action.error());
      case APPLY_THEN_DROP:
        serve(storeId, method, parsed);
        return new CompletableFuture<>();
      default:
        return CompletableFuture.completedFuture(serve(storeId, method, parsed));
    }
  }

  private Long storeAt(InetSocketAddress address) {
    for (Map.Entry<Long, InetSocketAddress> e : addresses.entrySet()) {
      if (e.getValue().equals(address)) {
        return e.getKey();
      }
    }
    return null;
  }

  private static Message parse(String method, byte[] request)
      throws InvalidProtocolBufferException {
    return switch (method) {
      case "kv.get" -> GetRequest.parseFrom(request);
      case "kv.batch_get" -> BatchGetRequest.parseFrom(request);
      case "kv.scan" -> ScanRequest.parseFrom(request);
      case "kv.write" -> WriteRequest.parseFrom(request);
      default -> throw new IllegalArgumentException("no such method " + method);
    };
  }

  private static byte[] errorResponse(String method, KvError error) {
    return switch (method) {
      case "kv.get" -> GetResponse.newBuilder().setError(error).build().toByteArray();
      case "kv.batch_get" -> BatchGetResponse.newBuilder().setError(error).build().toByteArray();
      case "kv.scan" -> ScanResponse.newBuilder().setError(error).build().toByteArray();
      default -> WriteResponse.newBuilder().setError(error).build().toByteArray();
    };
  }

  private synchronized byte[] serve(long storeId, String method, Message request) {
    return switch (method) {
      case "kv.get" -> get(storeId, (GetRequest) request);
      case "kv.batch_get" -> batchGet(storeId, (BatchGetRequest) request);
      case "kv.scan" -> scan(storeId, (ScanRequest) request);
      default -> write(storeId, (WriteRequest) request);
    };
  }

  private byte[] get(long storeId, GetRequest r) {
    byte[] key = r.getKey().toByteArray();
    KvError e = check(storeId, r.getContext(), List.of(key));
    if (e != null) {
      return GetResponse.newBuilder().setError(e).build().toByteArray();
    }
    byte[] v = data.get(key);
    GetResponse.Builder b = GetResponse.newBuilder().setFound(v != null);
    if (v != null) {
      b.setValue(ByteString.copyFrom(v));
    }
    return b.build().toByteArray();
  }

  private byte[] batchGet(long storeId, BatchGetRequest r) {
    List<byte[]> keys = r.getKeysList().stream().map(ByteString::toByteArray).toList();
    KvError e = check(storeId, r.getContext(), keys);
    if (e != null) {
      return BatchGetResponse.newBuilder().setError(e).build().toByteArray();
    }
    BatchGetResponse.Builder b = BatchGetResponse.newBuilder();
    for (byte[] k : keys) {
      byte[] v = data.get(k);
      if (v != null) {
        b.addPairs(KvPair.newBuilder().setKey(ByteString.copyFrom(k))
            .setValue(ByteString.copyFrom(v)));
      }
    }
    return b.build().toByteArray();
  }

  /** Strict about ranges: [start, end) must be inside the region (the router clips). */
  private byte[] scan(long storeId, ScanRequest r) {
    byte[] start = r.getStartKey().toByteArray();
    byte[] end = r.getEndKey().toByteArray();
    KvError e = check(storeId, r.getContext(), List.of(start));
    Region region = regionsById.get(r.getContext().getRegionId());
    if (e == null && !Keys.endCovers(region.getEndKey().toByteArray(), end)) {
      e = keyNotInRegion(end, region);
      errorsAnswered.merge(e.getKindCase(), 1, Integer::sum);
    }
    if (e != null) {
      return ScanResponse.newBuilder().setError(e).build().toByteArray();
    }
    byte[] to = Keys.minEnd(end, region.getEndKey().toByteArray());
    NavigableMap<byte[], byte[]> range = to.length == 0 ? data.tailMap(start, true)
        : data.subMap(start, true, to, false);
    if (r.getReverse()) {
      range = range.descendingMap();
    }
    ScanResponse.Builder b = ScanResponse.newBuilder();
    int limit = r.getLimit() == 0 ? 100 : r.getLimit();
    for (Map.Entry<byte[], byte[]> kv : range.entrySet()) {
      if (b.getPairsCount() >= limit) {
        break;
      }
      b.addPairs(KvPair.newBuilder().setKey(ByteString.copyFrom(kv.getKey()))
          .setValue(ByteString.copyFrom(kv.getValue())));
    }
    byte[] answer = b.build().toByteArray();
    afterScan.run();
    return answer;
  }

  private byte[] write(long storeId, WriteRequest r) {
    List<byte[]> keys = new ArrayList<>();
    for (Mutation m : r.getMutationsList()) {
      switch (m.getOpCase()) {
        case PUT -> keys.add(m.getPut().getKey().toByteArray());
        case DELETE -> keys.add(m.getDelete().getKey().toByteArray());
        case CAS -> keys.add(m.getCas().getKey().toByteArray());
        case DELETE_RANGE -> keys.add(m.getDeleteRange().getStartKey().toByteArray());
        default -> throw new IllegalArgumentException("empty mutation");
      }
    }
    KvError e = check(storeId, r.getContext(), keys);
    Region region = regionsById.get(r.getContext().getRegionId());
    for (Mutation m : r.getMutationsList()) {
      if (e == null && m.hasDeleteRange() && !Keys.endCovers(region.getEndKey().toByteArray(),
          m.getDeleteRange().getEndKey().toByteArray())) {
        e = keyNotInRegion(m.getDeleteRange().getEndKey().toByteArray(), region);
        errorsAnswered.merge(e.getKindCase(), 1, Integer::sum);
      }
    }
    if (e != null) {
      return WriteResponse.newBuilder().setError(e).build().toByteArray();
    }
    Map<Long, Map.Entry<Long, byte[]>> clients =
        dedup.computeIfAbsent(region.getId(), id -> new HashMap<>());
    Map.Entry<Long, byte[]> last = clients.get(r.getClientId());
    if (r.getSeq() != 0 && last != null && r.getSeq() == last.getKey()) {
      return last.getValue();
    }
    if (r.getSeq() != 0 && last != null && r.getSeq() < last.getKey()) {
      errorsAnswered.merge(KvError.KindCase.STALE_SEQUENCE, 1, Integer::sum);
      return WriteResponse.newBuilder().setError(KvError.newBuilder().setMessage(
          "client " + r.getClientId() + " seq " + r.getSeq() + " < last applied " + last.getKey()
              + " in region " + region.getId() + "; not applied")
          .setStaleSequence(StaleSequence.newBuilder().setClientId(r.getClientId())
              .setSeq(r.getSeq()).setFloor(last.getKey()))).build()
          .toByteArray();
    }
    byte[] answer = apply(r.getMutationsList()).toByteArray();
    if (r.getSeq() != 0) {
      clients.put(r.getClientId(), Map.entry(r.getSeq(), answer));
    }
    return answer;
  }

  private WriteResponse apply(List<Mutation> mutations) {
    for (int i = 0; i < mutations.size(); i++) {
      if (mutations.get(i).hasCas()) {
        CompareAndSet cas = mutations.get(i).getCas();
        byte[] current = data.get(cas.getKey().toByteArray());
        boolean ok = cas.getExpectAbsent() ? current == null
            : current != null && cas.getExpected().equals(ByteString.copyFrom(current));
        if (!ok) {
          WriteResponse.Builder b = WriteResponse.newBuilder().setSucceeded(false)
              .setFailedMutation(i).setCurrentFound(current != null);
          if (current != null) {
            b.setCurrentValue(ByteString.copyFrom(current));
          }
          return b.build();
        }
      }
    }
    for (Mutation m : mutations) {
      applies++;
      switch (m.getOpCase()) {
        case PUT -> data.put(m.getPut().getKey().toByteArray(), m.getPut().getValue().toByteArray());
        case DELETE -> data.remove(m.getDelete().getKey().toByteArray());
        case CAS -> {
          if (m.getCas().getDelete()) {
            data.remove(m.getCas().getKey().toByteArray());
          } else {
            data.put(m.getCas().getKey().toByteArray(), m.getCas().getNewValue().toByteArray());
          }
        }
        default -> {
          byte[] from = m.getDeleteRange().getStartKey().toByteArray();
          byte[] to = m.getDeleteRange().getEndKey().toByteArray();
          (to.length == 0 ? data.tailMap(from, true) : data.subMap(from, true, to, false)).clear();
        }
      }
    }
    return WriteResponse.newBuilder().setSucceeded(true).build();
  }

  /** How many answers carried an error of that kind. */
  synchronized int errorsAnswered(KvError.KindCase kind) {
    return errorsAnswered.getOrDefault(kind, 0);
  }

  private KvError check(long storeId, RequestContext ctx, List<byte[]> keys) {
    KvError e = checkRequest(storeId, ctx, keys);
    if (e != null) {
      errorsAnswered.merge(e.getKindCase(), 1, Integer::sum);
    }
    return e;
  }

  /** The checks of a real store, in its order: region on this store, leader, epoch, keys. */
  private KvError checkRequest(long storeId, RequestContext ctx, List<byte[]> keys) {
    Region r = regionsById.get(ctx.getRegionId());
    if (r == null || peerOn(r, storeId) == null) {
      return KvError.newBuilder().setMessage("region " + ctx.getRegionId() + " not on store "
              + storeId)
          .setRegionNotFound(RegionNotFound.newBuilder().setRegionId(ctx.getRegionId())).build();
    }
    long leader = leaderStore.get(r.getId());
    if (leader != storeId) {
      NotLeader.Builder nl = NotLeader.newBuilder().setRegionId(r.getId());
      if (!hideLeaderHints) {
        nl.setLeader(peerOn(r, leader));
      }
      return KvError.newBuilder().setMessage("not leader").setNotLeader(nl).build();
    }
    if (!ctx.getEpoch().equals(r.getEpoch())) {
      EpochNotMatch.Builder enm = EpochNotMatch.newBuilder().addCurrentRegions(r);
      for (Region other : regions.values()) {
        if (isDescendant(other.getId(), r.getId()) && peerOn(other, storeId) != null) {
          enm.addCurrentRegions(other);
        }
      }
      return KvError.newBuilder().setMessage("epoch not match").setEpochNotMatch(enm).build();
    }
    for (byte[] k : keys) {
      if (!contains(r, k)) {
        return keyNotInRegion(k, r);
      }
    }
    return null;
  }

  private boolean isDescendant(long id, long ancestor) {
    Long p = parentOf.get(id);
    while (p != null) {
      if (p == ancestor) {
        return true;
      }
      p = parentOf.get(p);
    }
    return false;
  }

  private static KvError keyNotInRegion(byte[] key, Region r) {
    return KvError.newBuilder().setMessage("key not in region")
        .setKeyNotInRegion(KeyNotInRegion.newBuilder().setKey(ByteString.copyFrom(key))
            .setRegionId(r.getId()).setStartKey(r.getStartKey()).setEndKey(r.getEndKey()))
        .build();
  }

  static boolean contains(Region r, byte[] key) {
    return Keys.compare(r.getStartKey().toByteArray(), key) <= 0
        && Keys.beforeEnd(key, r.getEndKey().toByteArray());
  }

  static Peer peerOn(Region r, long storeId) {
    for (Peer p : r.getPeersList()) {
      if (p.getStoreId() == storeId) {
        return p;
      }
    }
    return null;
  }

  private void put(Region r) {
    Region old = regionsById.put(r.getId(), r);
    if (old != null) {
      regions.remove(old.getStartKey().toByteArray());
    }
    regions.put(r.getStartKey().toByteArray(), r);
  }

  private List<Peer> newPeers() {
    List<Peer> peers = new ArrayList<>();
    for (long s = 1; s <= STORES; s++) {
      peers.add(Peer.newBuilder().setId(nextId++).setStoreId(s).build());
    }
    return peers;
  }

  /** PD learns the regions and their leaders as the stores have them now. */
  synchronized void syncPd() {
    pd.setRegions(snapshot());
  }

  /** The regions and their leaders as the stores have them; under the cluster's lock. */
  private Map<Region, Peer> snapshot() {
    Map<Region, Peer> out = new java.util.LinkedHashMap<>();
    for (Region r : regions.values()) {
      out.put(r, peerOn(r, leaderStore.get(r.getId())));
    }
    return out;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
