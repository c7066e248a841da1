package io.flotilla.engine.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A synchronous in-memory cluster for scenario tests: every node has a {@link MemoryStorage} and
 * an applied-entries list; {@link #stabilize()} runs Readies and delivers messages until nothing
 * moves. Messages can be cut per direction, nodes isolated, and any message dropped by a filter.
 */
final class Network {
  final Map<Long, RawNode> nodes = new TreeMap<>();
  final Map<Long, MemoryStorage> storages = new TreeMap<>();
  final Map<Long, List<Entry>> applied = new TreeMap<>();
  final Map<Long, Config> configs = new TreeMap<>();
  final Map<Long, List<ReadState>> readStates = new TreeMap<>();
  private final Set<Long> cuts = new HashSet<>();
  private final Set<Long> isolated = new HashSet<>();
  private final Deque<Message> inFlight = new ArrayDeque<>();
  /** Messages for which this returns true are dropped. */
  Predicate<Message> dropFilter = m -> false;
  /** Every message delivered, in order, for assertions. */
  final List<Message> delivered = new ArrayList<>();
  /** Rewrites each batch of messages about to be delivered: reorder, duplicate, edit. */
  UnaryOperator<List<Message>> perturb = batch -> batch;
  /** Nodes whose Readies are not handled (a stalled disk): they still receive messages. */
  final Set<Long> held = new HashSet<>();
  private final UnaryOperator<Config.Builder> tuning;

  private Network(UnaryOperator<Config.Builder> tuning) {
    this.tuning = tuning;
  }

  /** Nodes 1..n, all voters, default test settings: electionTick 10, heartbeatTick 1. */
  static Network of(int n) {
    return of(n, b -> b);
  }

  static Network of(int n, UnaryOperator<Config.Builder> tuning) {
    Network net = new Network(tuning);
    Long[] ids = new Long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = (long) (i + 1);
    }
    for (Long id : ids) {
      net.add(id, MemoryStorage.withVoters(ids));
    }
    return net;
  }

  /** Adds (or restarts) a node on the given storage. */
  RawNode add(long id, MemoryStorage storage) {
    Random rnd = new Random(id * 7919);
    Config c = tuning.apply(
            Config.builder(id, rnd::nextInt).electionTick(10).heartbeatTick(1).preVote(false).checkQuorum(false))
        .build();
    RawNode node = new RawNode(c, storage);
    nodes.put(id, node);
    storages.put(id, storage);
    configs.put(id, c);
    applied.computeIfAbsent(id, k -> new ArrayList<>());
    readStates.computeIfAbsent(id, k -> new ArrayList<>());
    return node;
  }

  /** Adds a node that knows nothing yet (an empty log, no configuration), e.g. a new learner. */
  RawNode addEmpty(long id) {
    return add(id, new MemoryStorage());
  }

  RawNode node(long id) {
    return nodes.get(id);
  }

  Raft raft(long id) {
    return nodes.get(id).raft();
  }

  /** The node that leads in the highest term, or 0 if none. */
  long leader() {
    long best = 0;
    long bestTerm = -1;
    for (var e : nodes.entrySet()) {
      Raft r = e.getValue().raft();
      if (r.state == StateType.LEADER && r.term > bestTerm) {
        best = e.getKey();
        bestTerm = r.term;
      }
    }
    return best;
  }

  void cut(long a, long b) {
    cuts.add(key(a, b));
    cuts.add(key(b, a));
  }

  /** Drops messages from {@code from} to {@code to} only. */
  void cutOneWay(long from, long to) {
    cuts.add(key(from, to));
  }

  void isolate(long id) {
    isolated.add(id);
  }

  void recover() {
    cuts.clear();
    isolated.clear();
    dropFilter = m -> false;
  }

  private static long key(long from, long to) {
    return from * 1_000_003L + to;
  }

  private boolean dropped(Message m) {
    return isolated.contains(m.from())
        || isolated.contains(m.to())
        || cuts.contains(key(m.from(), m.to()))
        || !nodes.containsKey(m.to())
        || dropFilter.test(m);
  }

  void campaign(long id) {
    nodes.get(id).campaign();
    stabilize();
  }

  void propose(long id, String data) {
    nodes.get(id).propose(data.getBytes());
    stabilize();
  }

  void tick(long id, int n) {
    for (int i = 0; i < n; i++) {
      nodes.get(id).tick();
    }
  }

  void tickAll(int n) {
    for (int i = 0; i < n; i++) {
      for (RawNode node : nodes.values()) {
        node.tick();
      }
      stabilize();
    }
  }

  /** Steps a message as if it arrived from the network, then stabilizes. */
  void send(Message m) {
    inFlight.add(m);
    stabilize();
  }

  /** Runs every pending Ready and delivers every message until the cluster is quiet. */
  void stabilize() {
    for (int round = 0; round < 100_000; round++) {
      boolean moved = false;
      for (var e : nodes.entrySet()) {
        if (!held.contains(e.getKey()) && e.getValue().hasReady()) {
          handleReady(e.getKey(), e.getValue());
          moved = true;
        }
      }
      List<Message> batch = perturb.apply(new ArrayList<>(inFlight));
      inFlight.clear();
      for (Message m : batch) {
        moved = true;
        if (dropped(m)) {
          continue;
        }
        delivered.add(m);
        nodes.get(m.to()).step(m);
      }
      if (!moved) {
        return;
      }
    }
    throw new IllegalStateException("network did not stabilize");
  }

  /** Handles one Ready of {@code id} (held or not), if it has one; delivers nothing. */
  void processReady(long id) {
    if (nodes.get(id).hasReady()) {
      handleReady(id, nodes.get(id));
    }
  }

  private void handleReady(long id, RawNode node) {
    Ready rd = node.ready();
    MemoryStorage s = storages.get(id);
    inFlight.addAll(rd.messages());
    if (rd.snapshot() != null) {
      s.applySnapshot(rd.snapshot());
    }
    s.append(rd.entries());
    if (rd.hardState() != null) {
      s.setHardState(rd.hardState());
    }
    inFlight.addAll(rd.persistedMessages());
    for (Entry e : rd.committedEntries()) {
      if (e.type() == EntryType.CONF_CHANGE) {
        node.applyConfChange(ConfChange.decode(e.data()));
      }
      applied.get(id).add(e);
    }
    readStates.get(id).addAll(rd.readStates());
    node.advance(rd);
  }
}
