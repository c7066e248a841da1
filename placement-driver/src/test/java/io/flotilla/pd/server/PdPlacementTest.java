package io.flotilla.pd.server;

import static io.flotilla.pd.server.PdFixtures.client;
import static io.flotilla.pd.server.PdFixtures.fastSingle;
import static io.flotilla.pd.server.PdFixtures.get;
import static io.flotilla.pd.server.PdFixtures.peer;
import static io.flotilla.pd.server.PdFixtures.region;
import static io.flotilla.pd.server.PdFixtures.store;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.flotilla.engine.client.PdException;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.AddOperatorRequest;
import io.flotilla.engine.proto.AddOperatorResponse;
import io.flotilla.engine.proto.CancelOperatorRequest;
import io.flotilla.engine.proto.CancelOperatorResponse;
import io.flotilla.engine.proto.ChangePeers;
import io.flotilla.engine.proto.ListOperatorsRequest;
import io.flotilla.engine.proto.ListOperatorsResponse;
import io.flotilla.engine.proto.ListSchedulersRequest;
import io.flotilla.engine.proto.ListSchedulersResponse;
import io.flotilla.engine.proto.OperatorInfo;
import io.flotilla.engine.proto.OperatorKind;
import io.flotilla.engine.proto.OperatorState;
import io.flotilla.engine.proto.PdError;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.PeerChange;
import io.flotilla.engine.proto.PeerChangeType;
import io.flotilla.engine.proto.PeerRole;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.RegionHeartbeatRequest;
import io.flotilla.engine.proto.RegionHeartbeatResponse;
import io.flotilla.engine.proto.SchedulerInfo;
import io.flotilla.engine.proto.SetSchedulerRequest;
import io.flotilla.engine.proto.SetSchedulerResponse;
import io.flotilla.engine.proto.SetStoreStateRequest;
import io.flotilla.engine.proto.SetStoreStateResponse;
import io.flotilla.engine.proto.StoreState;
import io.flotilla.engine.proto.StoreStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Placement through a real one-member PD: admin RPCs over {@link RemotePdClient}, region heartbeats
 * driven by the test, which plays the region's leader and carries steps out at once.
 */
class PdPlacementTest {
  static final long REGION = 900_000;
  @TempDir Path dir;
  PdServer pd;
  RemotePdClient client;
  Region current;
  Peer leader;
  long term = 5;

  @BeforeEach
  void start() {
    pd = PdServer.start(fastSingle(dir.resolve("pd")).withScheduleIntervalMs(20));
    client = client(List.of(pd.address()));
    for (long s = 2; s <= 4; s++) {
      get(client.putStore(store(s, "127.0.0.1:" + (7000 + s))));
    }
    current = region(REGION, "", "", 1, 1, peer(900_001, 1), peer(900_002, 2), peer(900_003, 3));
    leader = current.getPeers(0);
    get(client.bootstrap(store(1, "127.0.0.1:7001"), current));
    storeHeartbeats(1, 2, 3, 4);
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (pd != null) {
      pd.close();
    }
  }

  // ------------------------------------------------------------------ helpers

  <R> CompletableFuture<R> call(String method, MessageLite req, Parser<R> parser, Function<R, PdError> err) {
    return client.call(method, req, parser, err);
  }

  SchedulerInfo setScheduler(String name, Boolean enabled, Map<String, String> settings) {
    SetSchedulerRequest.Builder b = SetSchedulerRequest.newBuilder().setName(name).putAllSettings(settings);
    if (enabled != null) {
      b.setEnabled(enabled);
    }
    return get(call(PdAdmin.SET_SCHEDULER, b.build(), SetSchedulerResponse.parser(), SetSchedulerResponse::getError))
        .getScheduler();
  }

  OperatorInfo addOperator(AddOperatorRequest req) {
    return get(call(PdAdmin.ADD_OPERATOR, req, AddOperatorResponse.parser(), AddOperatorResponse::getError))
        .getOperator();
  }

  List<OperatorInfo> operators(boolean ended) {
    return get(call(PdAdmin.LIST_OPERATORS, ListOperatorsRequest.newBuilder().setIncludeEnded(ended).build(),
        ListOperatorsResponse.parser(), ListOperatorsResponse::getError)).getOperatorsList();
  }

  void storeHeartbeats(long... stores) {
    for (long s : stores) {
      get(client.storeHeartbeat(StoreStats.newBuilder().setStoreId(s).build()));
    }
  }

  RegionHeartbeatResponse heartbeat(Long... pending) {
    RegionHeartbeatRequest.Builder b = RegionHeartbeatRequest.newBuilder().setRegion(current).setLeader(leader)
        .setTerm(term);
    for (long p : pending) {
      b.addPendingPeers(current.getPeersList().stream().filter(x -> x.getId() == p).findFirst().orElseThrow());
    }
    return get(client.regionHeartbeat(b.build()));
  }

  void noSchedulers() {
    setScheduler("balance-leader", false, Map.of());
    setScheduler("balance-region", false, Map.of());
  }

  /** Plays the store: carries out {@code step} on {@link #current} (a joint change is left at once). */
  void execute(RegionHeartbeatResponse step) {
    if (step.hasTransferLeader()) {
      leader = step.getTransferLeader().getPeer();
      term++;
      return;
    }
    if (!step.hasChangePeers()) {
      return;
    }
    current = change(current, step.getChangePeers(), false);
  }

  static Region change(Region r, ChangePeers c, boolean stayJoint) {
    List<Peer> peers = new ArrayList<>(r.getPeersList());
    boolean joint = c.getChangesCount() > 1;
    for (PeerChange ch : c.getChangesList()) {
      long id = ch.getPeer().getId();
      peers.removeIf(p -> p.getId() == id);
      if (ch.getType() == PeerChangeType.PEER_CHANGE_REMOVE) {
        continue;
      }
      PeerRole role = ch.getType() == PeerChangeType.PEER_CHANGE_ADD_VOTER
          ? (joint && r.getPeersList().stream().anyMatch(p -> p.getId() == id) ? PeerRole.PEER_ROLE_INCOMING_VOTER
              : PeerRole.PEER_ROLE_VOTER)
          : (joint ? PeerRole.PEER_ROLE_DEMOTING_VOTER : PeerRole.PEER_ROLE_LEARNER);
      peers.add(ch.getPeer().toBuilder().setRole(role).build());
    }
    if (c.getLeaveJoint() || (joint && !stayJoint)) {
      peers.replaceAll(p -> p.getRole() == PeerRole.PEER_ROLE_INCOMING_VOTER
          ? p.toBuilder().setRole(PeerRole.PEER_ROLE_VOTER).build()
          : p.getRole() == PeerRole.PEER_ROLE_DEMOTING_VOTER ? p.toBuilder().setRole(PeerRole.PEER_ROLE_LEARNER).build()
          : p);
    }
    RegionEpoch e = r.getEpoch();
    return r.toBuilder().clearPeers().addAllPeers(peers)
        .setEpoch(e.toBuilder().setConfVer(e.getConfVer() + Math.max(1, c.getChangesCount()))).build();
  }

  static String errorOf(CompletableFuture<?> f) {
    assertThatThrownBy(() -> get(f)).isInstanceOf(PdException.class);
    try {
      get(f);
    } catch (PdException e) {
      return e.getMessage();
    }
    throw new AssertionError();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void aMoveOperatorsStepsComeOutInOrderAndAdvanceOnlyOnTheReportedEffect() {
    noSchedulers();
    OperatorInfo op = addOperator(AddOperatorRequest.newBuilder().setRegionId(REGION)
        .setKind(OperatorKind.OPERATOR_KIND_MOVE_PEER).setFromStore(3).setToStore(4).build());
    assertThat(op.getDescription()).isEqualTo("move peer of region " + REGION + " from store 3 to store 4");
    assertThat(op.getOrigin()).isEqualTo("admin");

    RegionHeartbeatResponse s = heartbeat();
    assertThat(s.getOperatorId()).isEqualTo(op.getId());
    PeerChange add = s.getChangePeers().getChanges(0);
    assertThat(add.getType()).isEqualTo(PeerChangeType.PEER_CHANGE_ADD_LEARNER);
    assertThat(add.getPeer().getStoreId()).isEqualTo(4);
    assertThat(heartbeat()).as("no effect yet: the same step again").isEqualTo(s);

    execute(s);
    long learner = add.getPeer().getId();
    assertThat(heartbeat(learner).hasChangePeers()).as("the learner is pending: wait").isFalse();

    s = heartbeat();
    assertThat(s.getChangePeers().getChangesList()).extracting(c -> c.getType() + ":" + c.getPeer().getId())
        .containsExactly("PEER_CHANGE_ADD_VOTER:" + learner, "PEER_CHANGE_ADD_LEARNER:900003");
    current = change(current, s.getChangePeers(), true);
    s = heartbeat();
    assertThat(s.getChangePeers().getLeaveJoint()).isTrue();
    execute(s);
    s = heartbeat();
    assertThat(s.getChangePeers().getChanges(0).getType()).isEqualTo(PeerChangeType.PEER_CHANGE_REMOVE);
    assertThat(s.getChangePeers().getChanges(0).getPeer().getId()).isEqualTo(900_003);
    execute(s);
    assertThat(heartbeat().getOperatorId()).isZero();

    assertThat(operators(false)).isEmpty();
    assertThat(operators(true)).singleElement().satisfies(i -> {
      assertThat(i.getState()).isEqualTo(OperatorState.OPERATOR_STATE_FINISHED);
      assertThat(i.getStepsCount()).isEqualTo(4);
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> get(client.getRegionById(REGION)).orElseThrow().getRegion()
        .getPeersList().stream().map(Peer::getStoreId).toList().containsAll(List.of(1L, 2L, 4L)));
  }

  @Test
  void operatorsTimeOutAndCanBeCancelled() {
    noSchedulers();
    setScheduler("operator-controller", null, Map.of("transfer-leader-timeout", "300ms"));
    OperatorInfo op = addOperator(AddOperatorRequest.newBuilder().setRegionId(REGION)
        .setKind(OperatorKind.OPERATOR_KIND_TRANSFER_LEADER).setToStore(2).build());
    assertThat(op.getTimeoutMs()).isEqualTo(300);
    assertThat(heartbeat().getTransferLeader().getPeer().getId()).isEqualTo(900_002);
    await().atMost(Duration.ofSeconds(5)).until(() -> operators(true).get(0).getState()
        == OperatorState.OPERATOR_STATE_TIMED_OUT);
    assertThat(heartbeat().getOperatorId()).isZero();

    op = addOperator(AddOperatorRequest.newBuilder().setRegionId(REGION)
        .setKind(OperatorKind.OPERATOR_KIND_SPLIT).setSplitKey(ByteString.copyFromUtf8("m")).build());
    assertThat(heartbeat().getSplitRegion().getSplitKey().toStringUtf8()).isEqualTo("m");
    CancelOperatorResponse c = get(call(PdAdmin.CANCEL_OPERATOR, CancelOperatorRequest.newBuilder()
        .setRegionId(REGION).build(), CancelOperatorResponse.parser(), CancelOperatorResponse::getError));
    assertThat(c.getOperator().getId()).isEqualTo(op.getId());
    assertThat(c.getOperator().getState()).isEqualTo(OperatorState.OPERATOR_STATE_CANCELLED);
    assertThat(heartbeat().getOperatorId()).isZero();
    assertThat(errorOf(call(PdAdmin.CANCEL_OPERATOR, CancelOperatorRequest.newBuilder().setOperatorId(op.getId())
        .build(), CancelOperatorResponse.parser(), CancelOperatorResponse::getError)))
        .contains("operator_id: no running operator " + op.getId());
  }

  @Test
  void aStoreDownPastTheDownTimeLosesItsReplica() {
    noSchedulers();
    setScheduler("replica-checker", null, Map.of("max-store-down-time", "1s"));
    // NB: the clock starts before store 3's last heartbeat, so PD's down time is measured from after t0.
    long t0 = System.currentTimeMillis();
    storeHeartbeats(3);
    RegionHeartbeatResponse s = await().atMost(Duration.ofSeconds(10)).until(() -> {
      storeHeartbeats(1, 2, 4);
      return heartbeat();
    }, r -> r.hasChangePeers());
    assertThat(System.currentTimeMillis() - t0).isGreaterThanOrEqualTo(1_000);
    assertThat(s.getChangePeers().getChanges(0).getPeer().getStoreId()).isEqualTo(4);
    assertThat(operators(false)).singleElement().satisfies(i -> assertThat(i.getDescription())
        .isEqualTo("move peer of region " + REGION + " from store 3 to store 4 (store 3 is down)"));
    assertThat(get(client.getStore(3)).getDown()).isTrue();
  }

  @Test
  void anOfflineStoreIsDrainedThenBecomesATombstoneThatMayNotRejoin() {
    noSchedulers();
    assertThat(errorOf(call(PdAdmin.SET_STORE_STATE, SetStoreStateRequest.newBuilder().setStoreId(3)
        .setState(StoreState.STORE_STATE_TOMBSTONE).build(), SetStoreStateResponse.parser(),
        SetStoreStateResponse::getError))).contains("INVALID_ARGUMENT").contains("still holds 1 replicas");
    SetStoreStateResponse off = get(call(PdAdmin.SET_STORE_STATE, SetStoreStateRequest.newBuilder().setStoreId(3)
        .setState(StoreState.STORE_STATE_OFFLINE).build(), SetStoreStateResponse.parser(),
        SetStoreStateResponse::getError));
    assertThat(off.getStore().getStore().getState()).isEqualTo(StoreState.STORE_STATE_OFFLINE);

    await().atMost(Duration.ofSeconds(10)).until(() -> {
      storeHeartbeats(1, 2, 4);
      execute(heartbeat());
      return get(client.getStore(3)).getStore().getState() == StoreState.STORE_STATE_TOMBSTONE;
    });
    assertThat(current.getPeersList()).extracting(Peer::getStoreId).containsExactlyInAnyOrder(1L, 2L, 4L);
    assertThat(PdFixtures.errorOf(client.putStore(store(3, "127.0.0.1:7003"))))
        .isEqualTo(PdErrorType.PD_ERROR_STORE_TOMBSTONE);
  }

  @Test
  void adminRequestsWithBadArgumentsNameTheSetting() {
    Function<SetSchedulerRequest, String> set = r -> errorOf(call(PdAdmin.SET_SCHEDULER, r,
        SetSchedulerResponse.parser(), SetSchedulerResponse::getError));
    assertThat(set.apply(SetSchedulerRequest.newBuilder().setName("nope").build()))
        .contains("INVALID_ARGUMENT").contains("unknown scheduler 'nope'").contains("balance-region");
    assertThat(set.apply(SetSchedulerRequest.newBuilder().setName("balance-leader").putSettings("speed", "9").build()))
        .contains("balance-leader: unknown setting 'speed'").contains("tolerance");
    assertThat(set.apply(SetSchedulerRequest.newBuilder().setName("balance-leader").putSettings("tolerance", "lots")
        .build())).contains("balance-leader.tolerance: must be a number in [0.0, 1.0], got 'lots'");
    assertThat(set.apply(SetSchedulerRequest.newBuilder().setName("replica-checker")
        .putSettings("max-store-down-time", "soon").build())).contains("replica-checker.max-store-down-time")
        .contains("a duration like");
    assertThat(set.apply(SetSchedulerRequest.newBuilder().setName("operator-controller").setEnabled(false).build()))
        .contains("cannot be disabled");
    // A refused change changes nothing, not even its valid half.
    set.apply(SetSchedulerRequest.newBuilder().setName("balance-region").putSettings("batch", "9")
        .putSettings("by", "weight").build());
    List<SchedulerInfo> all = get(call(PdAdmin.LIST_SCHEDULERS, ListSchedulersRequest.getDefaultInstance(),
        ListSchedulersResponse.parser(), ListSchedulersResponse::getError)).getSchedulersList();
    assertThat(all).extracting(SchedulerInfo::getName)
        .containsExactly("operator-controller", "replica-checker", "balance-leader", "balance-region");
    assertThat(all.get(3).getSettingsMap()).containsEntry("batch", "4").containsEntry("by", "count");
    assertThat(all.get(0).getSettingsMap()).containsEntry("move-timeout", "10m").containsEntry("store-limit-send", "4");

    Function<AddOperatorRequest, String> add = r -> errorOf(call(PdAdmin.ADD_OPERATOR, r,
        AddOperatorResponse.parser(), AddOperatorResponse::getError));
    assertThat(add.apply(AddOperatorRequest.newBuilder().setRegionId(REGION).build())).contains("kind: must be one of");
    assertThat(add.apply(AddOperatorRequest.newBuilder().setRegionId(REGION)
        .setKind(OperatorKind.OPERATOR_KIND_ADD_PEER).setToStore(2).build())).contains("to_store: store 2 already holds");
    assertThat(add.apply(AddOperatorRequest.newBuilder().setRegionId(REGION)
        .setKind(OperatorKind.OPERATOR_KIND_MOVE_PEER).setFromStore(4).setToStore(2).build()))
        .contains("from_store: store 4 holds no peer");
    assertThat(add.apply(AddOperatorRequest.newBuilder().setRegionId(1)
        .setKind(OperatorKind.OPERATOR_KIND_SPLIT).build())).contains("REGION_NOT_FOUND");
    assertThat(add.apply(AddOperatorRequest.newBuilder().setRegionId(REGION)
        .setKind(OperatorKind.OPERATOR_KIND_ADD_PEER).setToStore(77).build())).contains("STORE_NOT_FOUND")
        .contains("no store 77");
    assertThat(add.apply(AddOperatorRequest.newBuilder().setRegionId(REGION)
        .setKind(OperatorKind.OPERATOR_KIND_TRANSFER_LEADER).build())).contains("to_store: required");
  }
}
