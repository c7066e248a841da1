package io.flotilla.pd.server;

import static io.flotilla.pd.server.PdFixtures.client;
import static io.flotilla.pd.server.PdFixtures.freePort;
import static io.flotilla.pd.server.PdFixtures.get;
import static io.flotilla.pd.server.PdFixtures.store;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.Timestamps;
import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.client.PdMethods;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.GetMembersRequest;
import io.flotilla.engine.proto.GetMembersResponse;
import io.flotilla.engine.proto.IsBootstrappedRequest;
import io.flotilla.engine.proto.IsBootstrappedResponse;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.TsoRequest;
import io.flotilla.engine.proto.TsoResponse;
import io.flotilla.engine.transport.RpcClient;
import io.flotilla.engine.transport.TransportConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A three-member PD over real Netty and RocksDB: leader changes, redirects, fail-over, timestamps. */
class PdClusterTest {
  @TempDir Path dir;
  final Map<Long, String> addresses = new TreeMap<>();
  final Map<Long, PdServer> members = new TreeMap<>();
  final List<AutoCloseable> closeables = new ArrayList<>();

  /** The members' data dirs are under this (a new one per start attempt). */
  Path base;

  @BeforeEach
  void start() {
    // NB: members must know each other's ports up front, so they are picked free and then bound:
    // another process may take one in between. Then start over on new ports.
    for (int attempt = 1; ; attempt++) {
      base = dir.resolve("attempt-" + attempt);
      for (long id = 1; id <= 3; id++) {
        addresses.put(id, "127.0.0.1:" + freePort());
      }
      try {
        for (long id = 1; id <= 3; id++) {
          members.put(id, PdServer.start(config(id)));
        }
        return;
      } catch (RuntimeException e) {
        members.values().forEach(PdServer::close);
        members.clear();
        if (attempt == 5 || !String.valueOf(e.getMessage()).contains("cannot listen")) {
          throw e;
        }
      }
    }
  }

  /** Fast ticks, small id batches, and a short log so a member that was away needs a snapshot. */
  private PdConfig config(long id) {
    return PdConfig.singleMember(base.resolve("pd-" + id))
        .withMemberId(id)
        .withListenAddress(addresses.get(id))
        .withMembers(addresses)
        .withTicks(10, 10)
        .withRequestTimeoutMs(2_000)
        .withIdBatchSize(10)
        .withCompactLogAfterEntries(20);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    members.values().forEach(PdServer::close);
  }

  @Test
  void idsStayUniqueAcrossALeaderChange() {
    RemotePdClient client = track(client(List.copyOf(addresses.values())));
    get(client.putStore(store(1, "127.0.0.1:7001")));
    long oldLeader = awaitLeader();
    List<Long> before = allocate(client, 60);

    members.remove(oldLeader).close();
    List<Long> after = allocate(client, 60);

    long newLeader = awaitLeader();
    assertThat(newLeader).isNotEqualTo(oldLeader);
    Set<Long> all = new HashSet<>(before);
    all.addAll(after);
    assertThat(all).as("no id handed out twice").hasSize(before.size() + after.size());
    assertThat(after.stream().mapToLong(Long::longValue).min().orElseThrow())
        .as("the new leader reserves above every bound the old one committed")
        .isGreaterThan(before.stream().mapToLong(Long::longValue).max().orElseThrow());
    // The replicated metadata survived the change.
    assertThat(get(client.getStore(1)).getStore().getAddress()).isEqualTo("127.0.0.1:7001");
    assertThat(client.leader()).hasValue(HostPort.parse(addresses.get(newLeader), false));
  }

  @Test
  void aMemberBackFromAnAbsenceCatchesUpFromASnapshot() {
    RemotePdClient client = track(client(List.copyOf(addresses.values())));
    get(client.putStore(store(1, "127.0.0.1:7001")));
    long leader = awaitLeader();
    long away = leader % 3 + 1;
    members.remove(away).close();

    // Far more entries than the leader keeps: its log is compacted past what the absent member has.
    List<CompletableFuture<Void>> puts = new ArrayList<>();
    for (long s = 2; s <= 60; s++) {
      puts.add(client.putStore(store(s, "127.0.0.1:" + (7000 + s))));
    }
    puts.forEach(f -> get(f));
    long bound = members.get(leader).meta().idBound();
    get(client.allocIds(25));

    PdServer back = PdServer.start(config(away));
    members.put(away, back);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
        .until(() -> back.meta().stores().size() == 60 && back.meta().idBound() > bound);
    assertThat(back.meta().store(60).orElseThrow().getAddress()).isEqualTo("127.0.0.1:7060");
    assertThat(back.clusterId()).isEqualTo(members.get(leader).clusterId());
  }

  @Test
  void aFollowerAnswersNotLeaderAndTheClientIsRedirected() {
    long leader = awaitLeader();
    long follower = leader % 3 + 1;
    await().atMost(Duration.ofSeconds(10)).until(() -> members.get(follower).leaderId() == leader);

    // The server side: a follower refuses with the leader's address, and names it in get_members.
    RpcClient rpc = track(new RpcClient(TransportConfig.defaults().withIoThreads(1)));
    IsBootstrappedResponse refused = parse(rpc, follower, PdMethods.IS_BOOTSTRAPPED,
        IsBootstrappedRequest.getDefaultInstance().toByteArray(), IsBootstrappedResponse::parseFrom);
    assertThat(refused.getError().getType()).isEqualTo(PdErrorType.PD_ERROR_NOT_LEADER);
    assertThat(refused.getError().getLeaderAddress()).isEqualTo(addresses.get(leader));
    GetMembersResponse m = parse(rpc, follower, PdMethods.GET_MEMBERS,
        GetMembersRequest.getDefaultInstance().toByteArray(), GetMembersResponse::parseFrom);
    assertThat(m.getLeader().getId()).isEqualTo(leader);
    assertThat(m.getMembersCount()).isEqualTo(3);
    assertThat(m.getClusterId()).isEqualTo(members.get(leader).clusterId()).isNotZero();

    // The client: given only the follower, it finds the leader.
    RemotePdClient client = track(client(List.of(addresses.get(follower))));
    assertThat(get(client.isBootstrapped())).isFalse();
    assertThat(client.leader()).hasValue(HostPort.parse(addresses.get(leader), false));

    // Leadership moves while the client still points at the old leader: NOT_LEADER, then the hint.
    members.get(leader).transferLeader(follower);
    await().atMost(Duration.ofSeconds(10)).until(() -> members.get(follower).isLeader());
    assertThat(client.leader()).hasValue(HostPort.parse(addresses.get(leader), false));
    get(client.putStore(store(7, "127.0.0.1:7007")));
    assertThat(client.leader()).hasValue(HostPort.parse(addresses.get(follower), false));
    assertThat(members.get(follower).meta().store(7)).isPresent();
  }

  @Test
  void aClientWithOneDeadAddressAmongThreeStillWorks() {
    long leader = awaitLeader();
    long victim = leader % 3 + 1;
    members.remove(victim).close();
    List<String> list = new ArrayList<>();
    list.add(addresses.get(victim)); // tried first: nothing listens there any more
    addresses.forEach((id, a) -> {
      if (id != victim) {
        list.add(a);
      }
    });
    for (int i = 0; i < 5; i++) {
      try (RemotePdClient client = client(list)) {
        assertThat(get(client.allocId())).isPositive();
        assertThat(client.leader()).hasValue(HostPort.parse(addresses.get(leader), false));
      }
    }
  }

  @Test
  void timestampsNeverGoBackwardsAcrossALeaderKillAndATransfer() throws Exception {
    List<RemotePdClient> clients = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      clients.add(track(client(List.copyOf(addresses.values()))));
    }
    long first = awaitLeader();
    TsoLoad load = new TsoLoad(clients, 2, Integer.MAX_VALUE);
    long killedAt;
    long savedBeforeKill;
    long movedAt;
    long savedBeforeMove;
    try {
      load.awaitAnsweredSince(0, 200);

      savedBeforeKill = members.get(first).meta().tsoSavedUntilMs();
      members.remove(first).close();
      killedAt = System.nanoTime(); // calls that begin now cannot reach the old leader
      load.awaitAnsweredSince(killedAt, 200);
      long second = awaitLeader();
      assertThat(second).isNotEqualTo(first);

      long target = members.keySet().stream().filter(id -> id != second).findFirst().orElseThrow();
      savedBeforeMove = members.get(second).meta().tsoSavedUntilMs();
      members.get(second).transferLeader(target);
      await().atMost(Duration.ofSeconds(10)).until(() -> members.get(target).isLeader());
      movedAt = System.nanoTime();
      load.awaitAnsweredSince(movedAt, 200);
    } finally {
      load.close();
    }
    // A clock-only oracle would pass the checks below on one machine; these would fail it.
    assertThat(Timestamps.physicalMs(load.minSince(killedAt))).as("the new leader starts after the saved window")
        .isGreaterThanOrEqualTo(savedBeforeKill);
    assertThat(Timestamps.physicalMs(load.minSince(movedAt))).as("so does the one it handed leadership to")
        .isGreaterThanOrEqualTo(savedBeforeMove);
    load.check();
    System.out.printf("TSO across a leader kill and a transfer: %d timestamps, %d calls failed%n", load.answered(),
        load.failures());
  }

  @Test
  void aFollowerRedirectsTimestampRequestsToTheLeader() {
    long leader = awaitLeader();
    long follower = leader % 3 + 1;
    await().atMost(Duration.ofSeconds(10)).until(() -> members.get(follower).leaderId() == leader);

    RpcClient rpc = track(new RpcClient(TransportConfig.defaults().withIoThreads(1)));
    TsoResponse refused = parse(rpc, follower, PdMethods.TSO, TsoRequest.newBuilder().setCount(1).build().toByteArray(),
        TsoResponse::parseFrom);
    assertThat(refused.getError().getType()).isEqualTo(PdErrorType.PD_ERROR_NOT_LEADER);
    assertThat(refused.getError().getLeaderAddress()).isEqualTo(addresses.get(leader));
    assertThat(refused.getFirst()).as("nothing from a follower's window").isZero();

    RemotePdClient client = track(client(List.of(addresses.get(follower))));
    assertThat(get(client.getTimestamp())).isPositive();
    assertThat(client.leader()).hasValue(HostPort.parse(addresses.get(leader), false));
  }

  private long awaitLeader() {
    long[] found = new long[1];
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
      for (PdServer s : members.values()) {
        if (s.isLeader() && s.clusterId() != 0) {
          found[0] = s.memberId();
          return true;
        }
      }
      return false;
    });
    return found[0];
  }

  /** {@code n} ids from single allocations, a few at a time concurrently. */
  private static List<Long> allocate(RemotePdClient client, int n) {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < n; i += 4) {
      List<CompletableFuture<Long>> batch = new ArrayList<>();
      for (int j = 0; j < 4; j++) {
        batch.add(client.allocId());
      }
      batch.forEach(f -> ids.add(get(f)));
    }
    return ids;
  }

  private <T extends AutoCloseable> T track(T c) {
    closeables.add(c);
    return c;
  }

  @FunctionalInterface
  interface ParseFn<T> {
    T parse(byte[] bytes) throws com.google.protobuf.InvalidProtocolBufferException;
  }

  private <T> T parse(RpcClient rpc, long member, String method, byte[] request, ParseFn<T> fn) {
    byte[] bytes = get(rpc.call(HostPort.parse(addresses.get(member), false), method, request, Duration.ofSeconds(5)));
    try {
      return fn.parse(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
