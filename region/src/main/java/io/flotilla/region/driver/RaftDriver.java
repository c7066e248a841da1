package io.flotilla.region.driver;

import io.flotilla.engine.Threads;
import io.flotilla.engine.raft.Config;
import io.flotilla.engine.raft.ConfChange;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.RawNode;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.StateType;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.RocksRaftStorage;
import io.flotilla.region.storage.SnapshotProvider;
import io.flotilla.region.storage.StorageBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs many Raft groups of one node on a few threads (the batch-system idea of TiKV): each group
 * has a mailbox; groups with work wait in one run queue; {@link Poller} threads take them in
 * batches and persist each batch's Readies with one fsync. One ticker thread drives time for all
 * awake groups; idle groups hibernate and are woken by any input, or by the node-level liveness of
 * their leader's node.
 *
 * <p>Thread-safe: every public method may be called from any thread. A group is only ever driven
 * by one poller at a time.
 */
public final class RaftDriver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftDriver.class);

  /**
   * Lets the node's storage ask the driver for snapshot data before the driver exists: pass one to
   * {@link NodeStorage#open} and the same one to the driver.
   */
  public static final class SnapshotHook implements SnapshotProvider {
    private volatile RaftDriver driver;

    @Override
    public Snapshot snapshot(long groupId, SnapshotMetadata latest) {
      RaftDriver d = driver;
      RaftGroup g = d == null ? null : d.groups.get(groupId);
      if (g == null) {
        return new Snapshot(new byte[0], latest);
      }
      return g.buildSnapshot();
    }
  }

  private final long nodeId;
  private final DriverConfig config;
  private final NodeStorage storage;
  private final MessageBus bus;
  private final GroupRouting routing;
  private final Map<Long, RaftGroup> groups = new ConcurrentHashMap<>();
  private final LinkedBlockingQueue<RaftGroup> runQueue = new LinkedBlockingQueue<>();
  private final Map<Long, Set<RaftGroup>> hibernatedByLeaderNode = new ConcurrentHashMap<>();
  /** Groups that are not hibernating: the only ones the ticker visits, so idle groups cost nothing. */
  private final Set<RaftGroup> awake = ConcurrentHashMap.newKeySet();
  /** Ticks are read off the monotonic clock, not counted: a paused process sees the whole pause at once. */
  private final long startNanos = System.nanoTime();
  private final DriverCounters counters = new DriverCounters();
  private final List<Thread> pollers = new ArrayList<>();
  private final ScheduledExecutorService ticker;
  /** Runs the slow half of snapshot restores ({@link StateMachine#prepareRestore}) off the pollers. */
  private final ExecutorService restoreWorker;
  private final SplittableRandom seeds;
  /** Snapshots being streamed to other nodes (incremented and decremented by the sending group). */
  final AtomicInteger sendingSnapshots = new AtomicInteger();
  private volatile LeaderListener leaderListener;
  private volatile boolean running;
  private volatile Throwable failure;

  public RaftDriver(long nodeId, DriverConfig config, NodeStorage storage, MessageBus bus, GroupRouting routing,
      SnapshotHook hook) {
    this.nodeId = nodeId;
    this.config = config.validate();
    this.storage = storage;
    this.bus = bus;
    this.routing = routing;
    this.seeds = new SplittableRandom(nodeId * 0x9E3779B97F4A7C15L ^ System.nanoTime());
    this.ticker = Executors.newSingleThreadScheduledExecutor(Threads.named("flotilla-ticker-" + nodeId));
    this.restoreWorker = Executors.newSingleThreadExecutor(Threads.named("flotilla-restore-" + nodeId));
    hook.driver = this;
  }

  public void start() {
    running = true;
    for (int i = 0; i < config.pollerThreads(); i++) {
      Thread t = new Thread(new Poller(this), "flotilla-poller-" + nodeId + "-" + i);
      t.setDaemon(true);
      t.start();
      pollers.add(t);
    }
    ticker.scheduleAtFixedRate(this::onTick, config.tickIntervalMs(), config.tickIntervalMs(), TimeUnit.MILLISECONDS);
    LOG.info("raft driver started [node={}] pollers={} tick={}ms groups={}", nodeId, config.pollerThreads(),
        config.tickIntervalMs(), groups.size());
  }

  // ------------------------------------------------------------------ groups

  /**
   * Starts this node's replica of a group: restarts it from storage if it exists here, else
   * creates it with {@code peers} as the initial voters ({@code peers} empty for a replica that
   * will be sent a snapshot). {@code peerId} is this replica's Raft id. Taken for a restart: with
   * lease reads the replica refuses votes for an election timeout (see {@code Config#restarted}).
   */
  public void startGroup(long groupId, long peerId, List<Long> peers, StateMachine<?> sm) {
    startGroup(groupId, peerId, peers, sm, true);
  }

  /**
   * Like {@link #startGroup(long, long, List, StateMachine)}; {@code restarted} false for a replica
   * whose state was created in this process and that cannot have helped grant a lease yet (a new
   * split's replica, a bootstrapped region): it votes and campaigns at once.
   */
  public void startGroup(long groupId, long peerId, List<Long> peers, StateMachine<?> sm, boolean restarted) {
    if (groups.containsKey(groupId)) {
      throw new IllegalStateException("group " + groupId + " is already running on node " + nodeId);
    }
    RocksRaftStorage s = storage.hasGroup(groupId)
        ? storage.group(groupId)
        : storage.createGroup(groupId, new ConfState(peers, List.of(), List.of(), List.of(), false));
    SplittableRandom rnd = seeds.split();
    Config c = Config.builder(peerId, rnd::nextInt)
        .electionTick(config.electionTick())
        .heartbeatTick(config.heartbeatTick())
        .applied(s.appliedIndex())
        .maxSizePerMsg(config.maxSizePerMsg())
        .maxInflightMsgs(config.maxInflightMsgs())
        .maxUncommittedEntriesSize(config.maxUncommittedBytes())
        .checkQuorum(true)
        .preVote(true)
        .readOnlyOption(config.readOnlyOption())
        .disableProposalForwarding(true)
        .restarted(restarted)
        .build();
    RaftGroup g = new RaftGroup(groupId, new RawNode(c, s), s, sm, this, currentTick());
    groups.put(groupId, g);
    awake.add(g);
    schedule(g);
  }

  /** Stops and deletes this node's replica of a group (its Raft log and state; not its data). */
  public CompletableFuture<Void> destroyGroup(long groupId) {
    return destroyGroup(groupId, b -> { });
  }

  /**
   * Like {@link #destroyGroup(long)}, with {@code alsoWrite} adding the owner's own cleanup (e.g.
   * the region's data and a tombstone record) to the same batch as the deletion of the group's
   * Raft state, so both happen or neither. {@code alsoWrite} runs once no poller owns the group
   * any more: every write of its last round is in RocksDB. The future completes after the write
   * (and is completed normally with nothing done if the group is not running here).
   */
  public CompletableFuture<Void> destroyGroup(long groupId, Consumer<StorageBatch> alsoWrite) {
    RaftGroup g = groups.remove(groupId);
    if (g == null) {
      return CompletableFuture.completedFuture(null);
    }
    awake.remove(g);
    g.destroyed = true;
    // NB: wait until no poller owns it, then delete its storage.
    return CompletableFuture.runAsync(() -> {
      while (!g.scheduled.compareAndSet(false, true)) {
        Thread.onSpinWait();
      }
      g.restoreIdle().join(); // NB: an ingest still running would put data back after the delete
      // NB: entries this replica proposed and appended may still be committed by the others.
      g.failAll(new DroppedException("group " + groupId + " was destroyed on node " + nodeId),
          new OutcomeUnknownException("group " + groupId + " was destroyed on node " + nodeId
              + " with the proposal in its log; other replicas may still commit it"));
      try (StorageBatch b = storage.newBatch()) {
        b.destroyGroup(groupId);
        alsoWrite.accept(b);
        storage.write(b);
      }
    });
  }

  public List<Long> groupIds() {
    List<Long> ids = new ArrayList<>(groups.keySet());
    ids.sort(null);
    return ids;
  }

  /** Leader peer, term and role as of the group's last round (may be slightly stale). */
  public GroupInfo info(long groupId) {
    RaftGroup g = groups.get(groupId);
    return g == null ? null : g.info;
  }

  /** One line about a group on this node, for logs and failing tests. */
  public String describe(long groupId) {
    RaftGroup g = groups.get(groupId);
    if (g == null) {
      return "group " + groupId + " not on node " + nodeId;
    }
    return "node " + nodeId + " group " + groupId + " " + g.info + (g.hibernating ? " hibernating" : " awake")
        + " mailbox=" + g.mailbox.size() + " scheduled=" + g.scheduled.get();
  }

  // ------------------------------------------------------------------ requests

  /**
   * Proposes a command. Completes after it is applied, with the state machine's result for it
   * (which must be a {@code type}, or null), or exceptionally with {@link NotLeaderException} or
   * {@link DroppedException} (certainly not applied), {@link OutcomeUnknownException} (it may be),
   * or {@link IllegalStateException} if the result is not a {@code type} (it was applied).
   */
  public <R> CompletableFuture<R> propose(long groupId, byte[] command, Class<R> type) {
    return propose(groupId, command, null, type);
  }

  /**
   * Like {@link #propose(long, byte[], Class)}, with the object {@code command} was encoded from: if
   * this replica applies the entry as the leader that proposed it, the state machine gets
   * {@code parsed} beside the entry ({@link StateMachine#apply(long, List, List, StorageBatch)}) and
   * need not decode it again. {@code parsed} must be what {@code command} decodes to.
   */
  public <R> CompletableFuture<R> propose(long groupId, byte[] command, Object parsed, Class<R> type) {
    Answer<R> answer = Answer.of(type);
    RaftGroup g = groupOrFail(groupId, answer.future());
    if (g != null) {
      g.mailbox.add(new GroupEvent.Propose(command, parsed, answer, deadline()));
      schedule(g);
    }
    return answer.future();
  }

  /** {@link #propose(long, byte[], Class)} for a proposer that only waits for the apply. */
  public CompletableFuture<Object> propose(long groupId, byte[] command) {
    return propose(groupId, command, Object.class);
  }

  /**
   * Proposes a membership change; completes as {@link #propose(long, byte[], Class)} does, with the
   * result of {@link StateMachine#applyConfChange}.
   */
  public <R> CompletableFuture<R> proposeConfChange(long groupId, ConfChange cc, Class<R> type) {
    Answer<R> answer = Answer.of(type);
    RaftGroup g = groupOrFail(groupId, answer.future());
    if (g != null) {
      g.mailbox.add(new GroupEvent.ProposeConfChange(cc, answer, deadline()));
      schedule(g);
    }
    return answer.future();
  }

  /**
   * A linearizable read barrier: completes with an applied index once the state machine has
   * applied everything committed before this call; read the state machine then.
   */
  public CompletableFuture<Long> readIndex(long groupId) {
    CompletableFuture<Long> f = new CompletableFuture<>();
    RaftGroup g = groupOrFail(groupId, f);
    if (g != null) {
      g.mailbox.add(new GroupEvent.Read(f, deadline()));
      schedule(g);
    }
    return f;
  }

  /**
   * On a leader: the peers whose log ends before the leader's first log entry (they need a
   * snapshot) or that are being sent one; empty on a follower. Fails with {@link
   * DroppedException} if the group is not here.
   */
  public CompletableFuture<List<Long>> pendingPeers(long groupId) {
    CompletableFuture<List<Long>> f = new CompletableFuture<>();
    RaftGroup g = groupOrFail(groupId, f);
    if (g != null) {
      g.mailbox.add(new GroupEvent.PendingPeers(f));
      schedule(g);
    }
    return f;
  }

  /** Snapshots this node's leaders are streaming to other nodes now. */
  public int sendingSnapshots() {
    return sendingSnapshots.get();
  }

  /**
   * Called on a poller thread each time one of this node's replicas becomes leader (a new term);
   * it must not block. Replaces the previous listener; null: none.
   */
  public void setLeaderListener(LeaderListener listener) {
    this.leaderListener = listener;
  }

  /** See {@link #setLeaderListener}. */
  @FunctionalInterface
  public interface LeaderListener {
    void becameLeader(long groupId, long term);
  }

  void onBecameLeader(long groupId, long term) {
    LeaderListener l = leaderListener;
    if (l != null) {
      try {
        l.becameLeader(groupId, term);
      } catch (RuntimeException e) {
        LOG.warn("leader listener failed for group {} [node={}]: {}", groupId, nodeId, e.toString(), e);
      }
    }
  }

  public void transferLeader(long groupId, long toPeer) {
    post(groupId, new GroupEvent.TransferLeader(toPeer));
  }

  public void campaign(long groupId) {
    post(groupId, new GroupEvent.Campaign());
  }

  /**
   * Raft messages from another node (the transport's inbound handler calls this). Returns false
   * if the group does not run here (the message is dropped).
   */
  public boolean deliver(long groupId, Message m) {
    RaftGroup g = groups.get(groupId);
    if (g == null) {
      counters.droppedInbound.increment();
      return false;
    }
    g.mailbox.add(new GroupEvent.Inbound(m));
    schedule(g);
    return true;
  }

  /** The transport could not reach a peer of a group. */
  public void reportUnreachable(long groupId, long peer) {
    post(groupId, new GroupEvent.Unreachable(peer));
  }

  /**
   * A node cannot be reached: every group with a peer there goes back to probing it (the leader
   * stops streaming appends into the void).
   */
  public void reportUnreachableNode(long node) {
    for (RaftGroup g : groups.values()) {
      if (!g.hibernating) {
        for (long peer : g.peersOn(node)) {
          g.mailbox.add(new GroupEvent.Unreachable(peer));
          schedule(g);
        }
      }
    }
  }

  private void post(long groupId, GroupEvent e) {
    RaftGroup g = groups.get(groupId);
    if (g != null) {
      g.mailbox.add(e);
      schedule(g);
    }
  }

  private <T> RaftGroup groupOrFail(long groupId, CompletableFuture<T> f) {
    RaftGroup g = groups.get(groupId);
    if (g == null) {
      f.completeExceptionally(new DroppedException("group " + groupId + " is not on node " + nodeId));
    } else if (!running) {
      f.completeExceptionally(new DroppedException("raft driver of node " + nodeId + " is stopped"));
      return null;
    }
    return g;
  }

  private long deadline() {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.proposalTimeoutMs());
  }

  // ------------------------------------------------------------------ scheduling

  void schedule(RaftGroup g) {
    if (g.scheduled.compareAndSet(false, true)) {
      runQueue.add(g);
    }
  }

  /** Fills {@code out} with groups that have work; false if none came within a short wait. */
  boolean takeBatch(List<RaftGroup> out) throws InterruptedException {
    RaftGroup first = runQueue.poll(50, TimeUnit.MILLISECONDS);
    if (first == null) {
      return false;
    }
    out.add(first);
    runQueue.drainTo(out, config.maxGroupsPerRound() - 1);
    return true;
  }

  private void onTick() {
    try {
      for (RaftGroup g : awake) {
        schedule(g);
      }
      for (Map.Entry<Long, Set<RaftGroup>> e : hibernatedByLeaderNode.entrySet()) {
        if (!e.getValue().isEmpty() && !nodeAlive(e.getKey())) {
          LOG.info("node {} is silent for {} ms: waking {} hibernated groups it led [node={}]", e.getKey(),
              config.nodeDeadAfterMs(), e.getValue().size(), nodeId);
          for (RaftGroup g : e.getValue()) {
            g.mailbox.add(new GroupEvent.Wake());
            schedule(g);
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.error("ticker failed [node={}]", nodeId, e);
    }
  }

  /**
   * Ticks since the driver was made, by the monotonic clock. NB: counting the ticker's runs instead
   * would hide a pause (GC, SIGSTOP) until the ticker caught up, and a leader could trust its lease
   * through it; read off the clock, a pause longer than an election timeout is seen in full by the
   * first round after it, which then invalidates the lease ({@link RaftGroup#handleEvents}).
   */
  long currentTick() {
    return (System.nanoTime() - startNanos) / TimeUnit.MILLISECONDS.toNanos(config.tickIntervalMs());
  }

  /**
   * Whether anything was heard from {@code node} within {@link DriverConfig#nodeDeadAfterMs} (this
   * node always is alive; a node never heard from is not): node-level liveness, the same test that
   * wakes the hibernated groups a silent node led.
   */
  public boolean nodeAlive(long node) {
    if (node == nodeId) {
      return true;
    }
    long heard = bus.lastHeardNanos(node);
    return heard != Long.MIN_VALUE
        && System.nanoTime() - heard < TimeUnit.MILLISECONDS.toNanos(config.nodeDeadAfterMs());
  }

  void registerHibernated(long leaderNode, RaftGroup g) {
    hibernatedByLeaderNode.computeIfAbsent(leaderNode, k -> ConcurrentHashMap.newKeySet()).add(g);
  }

  /** A group stopped or resumed ticking (called by the thread driving it). */
  void setAwake(RaftGroup g, boolean isAwake) {
    if (!isAwake) {
      awake.remove(g);
    } else if (groups.get(g.id) == g) {
      awake.add(g);
    }
  }

  void unregisterHibernated(long leaderNode, RaftGroup g) {
    Set<RaftGroup> s = hibernatedByLeaderNode.get(leaderNode);
    if (s != null) {
      s.remove(g);
    }
  }

  /** A poller hit an error it cannot recover from (a storage failure): stop the node. */
  void fail(Throwable t) {
    failure = t;
    running = false;
    LOG.error("raft driver of node {} stopped after an unrecoverable error; restart the node: {}", nodeId,
        t.toString(), t);
    for (RaftGroup g : groups.values()) {
      g.mailbox.add(new GroupEvent.Wake());
    }
  }

  ExecutorService restoreWorker() {
    return restoreWorker;
  }

  boolean running() {
    return running;
  }

  /** The error that stopped the driver, or null. */
  public Throwable failure() {
    return failure;
  }

  DriverConfig config() {
    return config;
  }

  NodeStorage storage() {
    return storage;
  }

  MessageBus bus() {
    return bus;
  }

  GroupRouting routing() {
    return routing;
  }

  public long nodeId() {
    return nodeId;
  }

  /** Groups not hibernating (the ones the ticker visits). */
  public int awakeGroups() {
    return awake.size();
  }

  public DriverCounters counters() {
    return counters;
  }

  @Override
  public void close() {
    running = false;
    ticker.shutdownNow();
    restoreWorker.shutdownNow();
    for (Thread t : pollers) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    DroppedException stopped = new DroppedException("raft driver of node " + nodeId + " stopped");
    // NB: entries this node appended may still be committed by the other replicas.
    OutcomeUnknownException stoppedAppended = new OutcomeUnknownException("raft driver of node " + nodeId
        + " stopped with the proposal in its log; other replicas may still commit it");
    for (RaftGroup g : groups.values()) {
      g.failAll(stopped, stoppedAppended);
    }
    LOG.info("raft driver stopped [node={}] {}", nodeId, counters);
  }

  /** Role, leader and term of a group as of its last round. */
  public record GroupInfo(StateType role, long leaderPeer, long term, long applied) {
    static final GroupInfo INITIAL = new GroupInfo(StateType.FOLLOWER, 0, 0, 0);
  }
}
