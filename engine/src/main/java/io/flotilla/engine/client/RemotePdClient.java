package io.flotilla.engine.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.flotilla.engine.Timestamps;
import io.flotilla.engine.proto.AllocIdsRequest;
import io.flotilla.engine.proto.AllocIdsResponse;
import io.flotilla.engine.proto.AskSplitRequest;
import io.flotilla.engine.proto.AskSplitResponse;
import io.flotilla.engine.proto.BootstrapRequest;
import io.flotilla.engine.proto.BootstrapResponse;
import io.flotilla.engine.proto.GetMembersRequest;
import io.flotilla.engine.proto.GetMembersResponse;
import io.flotilla.engine.proto.GetRegionByIdRequest;
import io.flotilla.engine.proto.GetRegionRequest;
import io.flotilla.engine.proto.GetRegionResponse;
import io.flotilla.engine.proto.GetStoreRequest;
import io.flotilla.engine.proto.GetStoreResponse;
import io.flotilla.engine.proto.GetStoresRequest;
import io.flotilla.engine.proto.GetStoresResponse;
import io.flotilla.engine.proto.IsBootstrappedRequest;
import io.flotilla.engine.proto.IsBootstrappedResponse;
import io.flotilla.engine.proto.Member;
import io.flotilla.engine.proto.PdError;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.PutStoreRequest;
import io.flotilla.engine.proto.PutStoreResponse;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.RegionInfo;
import io.flotilla.engine.proto.ReportSplitRequest;
import io.flotilla.engine.proto.ReportSplitResponse;
import io.flotilla.engine.proto.ScanRegionsRequest;
import io.flotilla.engine.proto.ScanRegionsResponse;
import io.flotilla.engine.proto.Store;
import io.flotilla.engine.proto.StoreHeartbeatRequest;
import io.flotilla.engine.proto.StoreHeartbeatResponse;
import io.flotilla.engine.proto.StoreInfo;
import io.flotilla.engine.proto.StoreStats;
import io.flotilla.engine.proto.TsoRequest;
import io.flotilla.engine.proto.TsoResponse;
import io.flotilla.engine.transport.RemoteRpcException;
import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.RpcErrorCode;
import io.flotilla.engine.transport.RpcTimeoutException;
import com.google.protobuf.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PdClient} over the transport's RPC ({@link RpcClient}), given the addresses of some or all
 * PD members.
 *
 * <h2>Finding the leader</h2>
 *
 * A call goes to the member believed to lead. With no leader known, the client asks a member
 * ({@code pd.get_members}, round-robin over the configured and learned addresses) who leads. An
 * answer NOT_LEADER with a leader address is followed at once (a few times, then with a pause);
 * NOT_LEADER without one, UNAVAILABLE, a lost connection or an attempt's timeout forget the leader,
 * move to the next member and retry after a jittered, doubling pause. Every call has one deadline
 * ({@link PdClientConfig#callTimeoutMs}) over all of this; past it the call fails with the last
 * error seen (a {@link PdException} or the transport's exception). Any other PD error fails the
 * call at once with a {@link PdException} of its type.
 *
 * <p>Retries may repeat a request whose first attempt took effect: {@code allocIds} may then skip
 * ids (never repeat them), and a retried {@code bootstrap} may answer ALREADY_BOOTSTRAPPED.
 *
 * <p>Threads: any thread. Nothing blocks: futures complete on the RPC client's event loop threads,
 * or on the common pool after a pause.
 */
public final class RemotePdClient implements PdClient {
  private static final Logger LOG = LoggerFactory.getLogger(RemotePdClient.class);
  /** Redirects followed without a pause, per call, before pausing between them. */
  private static final int FREE_REDIRECTS = 3;

  private final PdClientConfig config;
  private final RpcClient rpc;
  private final boolean ownsRpc;
  private final List<InetSocketAddress> seeds;
  private volatile List<InetSocketAddress> members;
  private volatile InetSocketAddress leader;
  private final AtomicInteger roundRobin = new AtomicInteger();
  private volatile long clusterId;
  private volatile boolean closed;
  /** Timestamp callers waiting for the next {@code pd.tso} call, and whether one is in flight. */
  private final Object tsoLock = new Object();
  private List<CompletableFuture<Long>> tsoWaiting = new ArrayList<>();
  private boolean tsoInFlight;
  private long tsoCalls;

  /** A client with default settings and its own RPC client; {@code addresses} are host:port. */
  public RemotePdClient(List<String> addresses) {
    this(addresses, PdClientConfig.defaults());
  }

  /** A client with its own RPC client, closed with it; {@code addresses} are host:port. */
  public RemotePdClient(List<String> addresses, PdClientConfig config) {
    this(config, parse(addresses), null);
  }

  /** A client sharing {@code rpc}, which it does not close; {@code addresses} are host:port. */
  public RemotePdClient(List<String> addresses, PdClientConfig config, RpcClient rpc) {
    this(config, parse(addresses), Objects.requireNonNull(rpc, "rpc"));
  }

  /** A client with default settings but a call deadline of {@code callTimeout}, and its own RPC client. */
  public RemotePdClient(List<InetSocketAddress> addresses, Duration callTimeout) {
    this(PdClientConfig.defaults().withCallTimeoutMs(callTimeout.toMillis()), addresses, null);
  }

  /** With {@code rpc} null the client makes its own. */
  private RemotePdClient(PdClientConfig config, List<InetSocketAddress> addresses, RpcClient rpc) {
    this.config = config.validate();
    if (addresses == null || addresses.isEmpty()) {
      throw new IllegalArgumentException("addresses: at least one PD member address (host:port) is required");
    }
    this.seeds = List.copyOf(new LinkedHashSet<>(addresses));
    this.members = seeds;
    this.ownsRpc = rpc == null;
    this.rpc = rpc == null ? new RpcClient(config.transport()) : rpc;
  }

  private static List<InetSocketAddress> parse(List<String> addresses) {
    List<InetSocketAddress> parsed = new ArrayList<>();
    for (String a : addresses == null ? List.<String>of() : addresses) {
      parsed.add(HostPort.parse(a, false));
    }
    return parsed;
  }

  @Override
  public long clusterId() {
    return clusterId;
  }

  /** The member this client currently sends calls to, if it knows one. */
  public Optional<InetSocketAddress> leader() {
    return Optional.ofNullable(leader);
  }

  /** The configured and learned member addresses the client rotates through. */
  public List<InetSocketAddress> members() {
    return members;
  }

  // ------------------------------------------------------------------ PdClient

  @Override
  public CompletableFuture<Boolean> isBootstrapped() {
    return call(PdMethods.IS_BOOTSTRAPPED, IsBootstrappedRequest.getDefaultInstance(),
        IsBootstrappedResponse.parser(), IsBootstrappedResponse::getError)
        .thenApply(IsBootstrappedResponse::getBootstrapped);
  }

  @Override
  public CompletableFuture<Void> bootstrap(Store store, Region firstRegion) {
    return call(PdMethods.BOOTSTRAP, BootstrapRequest.newBuilder().setStore(store).setRegion(firstRegion).build(),
        BootstrapResponse.parser(), BootstrapResponse::getError)
        .thenApply(r -> null);
  }

  @Override
  public CompletableFuture<Long> allocIds(int count) {
    if (count <= 0) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("count: must be > 0, got " + count));
    }
    return call(PdMethods.ALLOC_IDS, AllocIdsRequest.newBuilder().setCount(count).build(),
        AllocIdsResponse.parser(), AllocIdsResponse::getError)
        .thenApply(r -> {
          if (r.getCount() != count || r.getFirstId() == 0) {
            throw new PdException(PdErrorType.PD_ERROR_UNAVAILABLE,
                "asked for " + count + " ids, PD answered " + r.getCount() + " from " + r.getFirstId());
          }
          return r.getFirstId();
        });
  }

  /**
   * One {@code pd.tso} call in flight at a time: callers that arrive meanwhile wait for the next
   * call, which asks for as many timestamps as there are of them (at most 2^18; more wait for the
   * one after). A failed call fails every caller it served.
   */
  @Override
  public CompletableFuture<Long> getTimestamp() {
    CompletableFuture<Long> f = new CompletableFuture<>();
    boolean send;
    synchronized (tsoLock) {
      tsoWaiting.add(f);
      send = !tsoInFlight;
      tsoInFlight = true;
    }
    if (send) {
      sendTimestampCall();
    }
    return f;
  }

  /** {@code pd.tso} calls this client made so far (each serving one or more callers). */
  public long timestampCalls() {
    synchronized (tsoLock) {
      return tsoCalls;
    }
  }

  private void sendTimestampCall() {
    List<CompletableFuture<Long>> batch;
    synchronized (tsoLock) {
      if (tsoWaiting.isEmpty()) {
        tsoInFlight = false;
        return;
      }
      int n = (int) Math.min(tsoWaiting.size(), Timestamps.LOGICAL_LIMIT);
      batch = new ArrayList<>(tsoWaiting.subList(0, n));
      tsoWaiting = new ArrayList<>(tsoWaiting.subList(n, tsoWaiting.size()));
      tsoCalls++;
    }
    int count = batch.size();
    call(PdMethods.TSO, TsoRequest.newBuilder().setCount(count).build(), TsoResponse.parser(), TsoResponse::getError)
        .whenComplete((r, ex) -> {
          sendTimestampCall(); // NB: the next batch goes out before this one's callers run
          Throwable failure = ex != null ? unwrap(ex) : r.getCount() != count || r.getFirst() == 0
              ? new PdException(PdErrorType.PD_ERROR_UNAVAILABLE,
                  "asked for " + count + " timestamps, PD answered " + r.getCount() + " from " + r.getFirst())
              : null;
          for (int i = 0; i < count; i++) {
            if (failure == null) {
              batch.get(i).complete(r.getFirst() + i);
            } else {
              batch.get(i).completeExceptionally(failure);
            }
          }
        });
  }

  @Override
  public CompletableFuture<Void> putStore(Store store) {
    return call(PdMethods.PUT_STORE, PutStoreRequest.newBuilder().setStore(store).build(),
        PutStoreResponse.parser(), PutStoreResponse::getError)
        .thenApply(r -> {
          learnClusterId(r.getClusterId());
          return null;
        });
  }

  @Override
  public CompletableFuture<StoreInfo> getStore(long storeId) {
    return call(PdMethods.GET_STORE, GetStoreRequest.newBuilder().setStoreId(storeId).build(),
        GetStoreResponse.parser(), GetStoreResponse::getError)
        .thenApply(GetStoreResponse::getStore);
  }

  @Override
  public CompletableFuture<List<StoreInfo>> getStores(boolean excludeTombstones) {
    return call(PdMethods.GET_STORES, GetStoresRequest.newBuilder().setExcludeTombstones(excludeTombstones).build(),
        GetStoresResponse.parser(), GetStoresResponse::getError)
        .thenApply(GetStoresResponse::getStoresList);
  }

  @Override
  public CompletableFuture<Void> storeHeartbeat(StoreStats stats) {
    return call(PdMethods.STORE_HEARTBEAT, StoreHeartbeatRequest.newBuilder().setStats(stats).build(),
        StoreHeartbeatResponse.parser(), StoreHeartbeatResponse::getError)
        .thenApply(r -> null);
  }

  @Override
  public CompletableFuture<RegionHeartbeatResponse> regionHeartbeat(RegionHeartbeatRequest request) {
    return call(PdMethods.REGION_HEARTBEAT, request, RegionHeartbeatResponse.parser(),
        RegionHeartbeatResponse::getError);
  }

  @Override
  public CompletableFuture<Optional<RegionInfo>> getRegion(byte[] key) {
    return call(PdMethods.GET_REGION, GetRegionRequest.newBuilder().setKey(ByteString.copyFrom(key)).build(),
        GetRegionResponse.parser(), r -> notFoundIsAnAnswer(r.getError()))
        .thenApply(RemotePdClient::regionOrEmpty);
  }

  @Override
  public CompletableFuture<Optional<RegionInfo>> getRegionById(long regionId) {
    return call(PdMethods.GET_REGION_BY_ID, GetRegionByIdRequest.newBuilder().setRegionId(regionId).build(),
        GetRegionResponse.parser(), r -> notFoundIsAnAnswer(r.getError()))
        .thenApply(RemotePdClient::regionOrEmpty);
  }

  @Override
  public CompletableFuture<List<RegionInfo>> scanRegions(byte[] startKey, byte[] endKey, int limit) {
    if (limit < 0) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("limit: must be >= 0, got " + limit));
    }
    ScanRegionsRequest req = ScanRegionsRequest.newBuilder()
        .setStartKey(ByteString.copyFrom(startKey))
        .setEndKey(ByteString.copyFrom(endKey))
        .setLimit(limit)
        .build();
    return call(PdMethods.SCAN_REGIONS, req, ScanRegionsResponse.parser(), ScanRegionsResponse::getError)
        .thenApply(ScanRegionsResponse::getRegionsList);
  }

  @Override
  public CompletableFuture<AskSplitResponse> askSplit(Region region) {
    return call(PdMethods.ASK_SPLIT, AskSplitRequest.newBuilder().setRegion(region).build(),
        AskSplitResponse.parser(), AskSplitResponse::getError);
  }

  @Override
  public CompletableFuture<Void> reportSplit(Region left, Region right) {
    return call(PdMethods.REPORT_SPLIT, ReportSplitRequest.newBuilder().setLeft(left).setRight(right).build(),
        ReportSplitResponse.parser(), ReportSplitResponse::getError)
        .thenApply(r -> null);
  }

  @Override
  public void close() {
    closed = true;
    if (ownsRpc) {
      rpc.close();
    }
  }

  // ------------------------------------------------------------------ calls

  private static PdError notFoundIsAnAnswer(PdError e) {
    return e.getType() == PdErrorType.PD_ERROR_REGION_NOT_FOUND
        || e.getType() == PdErrorType.PD_ERROR_NOT_BOOTSTRAPPED ? PdError.getDefaultInstance() : e;
  }

  private static Optional<RegionInfo> regionOrEmpty(GetRegionResponse r) {
    return r.getError().getType() == PdErrorType.PD_ERROR_NONE && r.hasRegion()
        ? Optional.of(r.getRegion()) : Optional.empty();
  }

  /**
   * Calls any PD RPC ({@code method}, see pd.proto) with leader discovery, redirects, fail-over and
   * the call deadline; fails with {@link PdException} when {@code errorOf} of the answer is an error.
   * For RPCs without a typed method here (the admin RPCs the command line uses).
   */
  public <R> CompletableFuture<R> call(String method, MessageLite request, Parser<R> parser,
      Function<R, PdError> errorOf) {
    Call<R> c = new Call<>(method, request.toByteArray(), parser, errorOf,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.callTimeoutMs()));
    c.attempt();
    return c.result;
  }

  private void learnClusterId(long id) {
    if (id != 0) {
      clusterId = id;
    }
  }

  private void learnMembers(GetMembersResponse r) {
    learnClusterId(r.getClusterId());
    Set<InetSocketAddress> all = new LinkedHashSet<>(seeds);
    for (Member m : r.getMembersList()) {
      InetSocketAddress a = parseOrNull(m.getAddress());
      if (a != null) {
        all.add(a);
      }
    }
    if (!all.equals(new LinkedHashSet<>(members))) {
      members = List.copyOf(all);
    }
  }

  private InetSocketAddress nextMember() {
    List<InetSocketAddress> m = members;
    return m.get(Math.floorMod(roundRobin.getAndIncrement(), m.size()));
  }

  /** Moves the leader from {@code expected} to {@code next}, unless another call already moved it. */
  private synchronized void replaceLeader(InetSocketAddress expected, InetSocketAddress next) {
    if (Objects.equals(leader, expected)) {
      leader = next;
    }
  }

  private static InetSocketAddress parseOrNull(String address) {
    if (address == null || address.isEmpty()) {
      return null;
    }
    try {
      return HostPort.parse(address, false);
    } catch (IllegalArgumentException e) {
      LOG.warn("PD member address '{}' is not host:port; ignored", address);
      return null;
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  /** One PdClient call: its attempts, redirects and pauses, under one deadline. */
  private final class Call<R> {
    final String method;
    final byte[] request;
    final Parser<R> parser;
    final Function<R, PdError> errorOf;
    final long deadlineNanos;
    final CompletableFuture<R> result = new CompletableFuture<>();
    int failures;
    int redirects;
    Throwable lastError;

    Call(String method, byte[] request, Parser<R> parser, Function<R, PdError> errorOf, long deadlineNanos) {
      this.method = method;
      this.request = request;
      this.parser = parser;
      this.errorOf = errorOf;
      this.deadlineNanos = deadlineNanos;
    }

    void attempt() {
      if (closed) {
        result.completeExceptionally(new IllegalStateException("PD client is closed"));
        return;
      }
      long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      if (remainingMs <= 0) {
        giveUp();
        return;
      }
      Duration timeout = Duration.ofMillis(Math.min(config.attemptTimeoutMs(), remainingMs));
      InetSocketAddress target = leader;
      try {
        if (target == null) {
          InetSocketAddress member = nextMember();
          rpc.call(member, PdMethods.GET_MEMBERS, GetMembersRequest.getDefaultInstance().toByteArray(), timeout)
              .whenComplete((bytes, ex) -> onMembers(member, bytes, ex));
        } else {
          rpc.call(target, method, request, timeout).whenComplete((bytes, ex) -> onResponse(target, bytes, ex));
        }
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    }

    private void onMembers(InetSocketAddress member, byte[] bytes, Throwable ex) {
      if (ex != null) {
        memberFailed(member, unwrap(ex));
        return;
      }
      GetMembersResponse r;
      try {
        r = GetMembersResponse.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        memberFailed(member, new PdException(PdErrorType.PD_ERROR_UNAVAILABLE,
            "unparseable get_members answer from " + member));
        return;
      }
      learnMembers(r);
      InetSocketAddress lead = r.hasLeader() ? parseOrNull(r.getLeader().getAddress()) : null;
      if (lead == null || r.getClusterId() == 0) {
        // NB: no cluster id yet means PD is still starting; it would answer UNAVAILABLE anyway.
        memberFailed(member, new PdException(PdErrorType.PD_ERROR_UNAVAILABLE, lead == null
            ? "PD has no leader now (asked " + HostPort.format(member) + ")"
            : "PD has not chosen its cluster id yet (asked " + HostPort.format(member) + ")"));
        return;
      }
      replaceLeader(null, lead);
      attempt();
    }

    private void onResponse(InetSocketAddress target, byte[] bytes, Throwable ex) {
      if (ex != null && unwrap(ex) instanceof RemoteRpcException remote
          && remote.code() == RpcErrorCode.UNKNOWN_METHOD) {
        // NB: the member answered; it does not know this RPC (an older PD). Retrying cannot help.
        result.completeExceptionally(remote);
        return;
      }
      if (ex != null) {
        replaceLeader(target, null);
        memberFailed(target, unwrap(ex));
        return;
      }
      R r;
      try {
        r = parser.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        replaceLeader(target, null);
        memberFailed(target, new PdException(PdErrorType.PD_ERROR_UNAVAILABLE,
            "unparseable " + method + " answer from " + target));
        return;
      }
      PdError error = errorOf.apply(r);
      switch (error.getType()) {
        case PD_ERROR_NONE -> result.complete(r);
        case PD_ERROR_NOT_LEADER -> {
          lastError = new PdException(error.getType(), error.getMessage());
          InetSocketAddress hint = parseOrNull(error.getLeaderAddress());
          replaceLeader(target, hint);
          if (hint != null && !hint.equals(target) && ++redirects % (FREE_REDIRECTS + 1) != 0) {
            attempt();
          } else {
            pause();
          }
        }
        case PD_ERROR_UNAVAILABLE -> {
          lastError = new PdException(error.getType(), error.getMessage());
          pause();
        }
        default -> result.completeExceptionally(new PdException(error.getType(), error.getMessage()));
      }
    }

    private void memberFailed(InetSocketAddress member, Throwable error) {
      lastError = error;
      LOG.debug("PD call {} to {} failed, trying another member: {}", method, member, error.toString());
      pause();
    }

    /** Retries after a jittered pause that doubles with each failure, within the deadline. */
    private void pause() {
      failures++;
      long max = config.backoffMaxMs();
      long d = Math.min(max, config.backoffMinMs() << Math.min(failures - 1, 20));
      long delay = d / 2 + ThreadLocalRandom.current().nextLong(d - d / 2 + 1);
      long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      if (remainingMs <= 0) {
        giveUp();
        return;
      }
      CompletableFuture.delayedExecutor(Math.min(delay, remainingMs), TimeUnit.MILLISECONDS).execute(this::attempt);
    }

    private void giveUp() {
      Throwable e = lastError != null ? lastError
          : new RpcTimeoutException("PD " + members, method, config.callTimeoutMs());
      result.completeExceptionally(e);
    }
  }
}
