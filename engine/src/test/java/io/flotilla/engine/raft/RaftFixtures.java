package io.flotilla.engine.raft;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Helpers for the scenario tests that drive one {@link Raft} by hand (etcd's {@code newTestRaft}
 * style): configs without election jitter, storages holding a given log, message builders, and
 * {@link #persist} to play the driver's part of a Ready.
 */
final class RaftFixtures {
  private RaftFixtures() {}

  /** electionTick 10 (exactly: no jitter), heartbeatTick 1, no pre-vote, no check-quorum. */
  static Config.Builder config(long id) {
    return Config.builder(id, bound -> 0)
        .electionTick(10)
        .heartbeatTick(1)
        .preVote(false)
        .checkQuorum(false);
  }

  /** A fresh member of a group of {@code voters} with an empty log. */
  static Raft newRaft(long id, Long... voters) {
    return new Raft(config(id).build(), MemoryStorage.withVoters(voters));
  }

  static Raft newRaft(Config.Builder c, MemoryStorage s) {
    return new Raft(c.build(), s);
  }

  /** Entries {@code firstIndex, firstIndex + 1, ...} with the given terms and no data. */
  static List<Entry> entries(long firstIndex, long... terms) {
    List<Entry> es = new ArrayList<>();
    for (int i = 0; i < terms.length; i++) {
      es.add(Entry.empty(terms[i], firstIndex + i));
    }
    return es;
  }

  /** {@code n} copies of {@code term}, to build long logs. */
  static long[] repeat(long term, int n) {
    long[] ts = new long[n];
    java.util.Arrays.fill(ts, term);
    return ts;
  }

  static long[] concat(long[]... parts) {
    int n = 0;
    for (long[] p : parts) {
      n += p.length;
    }
    long[] out = new long[n];
    int i = 0;
    for (long[] p : parts) {
      System.arraycopy(p, 0, out, i, p.length);
      i += p.length;
    }
    return out;
  }

  /**
   * A storage of a group of {@code voters} whose log (from index 1) has the given terms, and whose
   * hard state is {@code (term, vote 0, commit)}.
   */
  static MemoryStorage storage(long[] logTerms, long term, long commit, Long... voters) {
    MemoryStorage s = MemoryStorage.withVoters(voters);
    s.append(entries(1, logTerms));
    s.setHardState(new HardState(term, 0, commit));
    return s;
  }

  /** The terms of a storage's log from its first index, for comparing logs. */
  static List<Long> terms(MemoryStorage s) {
    List<Long> ts = new ArrayList<>();
    for (long i = s.firstIndex(); i <= s.lastIndex(); i++) {
      ts.add(s.term(i));
    }
    return ts;
  }

  /** The terms of a node's whole log (stable and unstable) from its first index. */
  static List<Long> terms(Raft r) {
    List<Long> ts = new ArrayList<>();
    for (long i = r.raftLog.firstIndex(); i <= r.raftLog.lastIndex(); i++) {
      ts.add(r.raftLog.term(i));
    }
    return ts;
  }

  /** Takes the messages the node queued. */
  static List<Message> drain(Raft r) {
    List<Message> ms = r.msgs;
    r.msgs = new ArrayList<>();
    return ms;
  }

  static List<Message> ofType(List<Message> ms, MessageType t) {
    return ms.stream().filter(m -> m.type() == t).toList();
  }

  /**
   * The driver's part of a Ready for the log: persist the unstable snapshot, entries and hard
   * state to {@code s}, then acknowledge them (a leader counts its own entries only now).
   */
  static void persist(Raft r, MemoryStorage s) {
    Snapshot snap = r.raftLog.nextUnstableSnapshot();
    List<Entry> ents = r.raftLog.nextUnstableEntries();
    r.raftLog.unstable.acceptInProgress();
    if (snap != null) {
      s.applySnapshot(snap);
      r.raftLog.stableSnapTo(snap.index());
    }
    if (!ents.isEmpty()) {
      s.append(ents);
      Entry last = ents.get(ents.size() - 1);
      r.raftLog.stableTo(last.index(), last.term());
      r.onPersisted(last.index(), last.term());
    }
    s.setHardState(r.hardState());
  }

  /** Makes {@code r} leader of the next term without an election (etcd's becomeCandidate, becomeLeader). */
  static Raft leader(Raft r) {
    r.becomeCandidate();
    r.becomeLeader();
    return r;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  static Message propose(long id, String data) {
    return Message.builder(MessageType.PROPOSE)
        .from(id)
        .entries(List.of(Entry.normal(0, 0, bytes(data))))
        .build();
  }

  static Message hup(long id) {
    return Message.builder(MessageType.HUP).from(id).build();
  }

  static Message app(
      long from, long to, long term, long prevIndex, long prevTerm, long commit, List<Entry> ents) {
    return Message.builder(MessageType.APP)
        .from(from)
        .to(to)
        .term(term)
        .index(prevIndex)
        .logTerm(prevTerm)
        .commit(commit)
        .entries(ents)
        .build();
  }

  static Message appResp(long from, long to, long term, long index) {
    return Message.builder(MessageType.APP_RESP).from(from).to(to).term(term).index(index).build();
  }

  static Message heartbeat(long from, long to, long term, long commit) {
    return Message.builder(MessageType.HEARTBEAT).from(from).to(to).term(term).commit(commit).build();
  }

  static Message vote(MessageType type, long from, long to, long term, long lastIndex, long lastTerm) {
    return Message.builder(type).from(from).to(to).term(term).index(lastIndex).logTerm(lastTerm).build();
  }

  static Message voteResp(long from, long to, long term, boolean reject) {
    return Message.builder(MessageType.VOTE_RESP).from(from).to(to).term(term).reject(reject).build();
  }

  /** Ticks every node of {@code net} until one leads (at most {@code maxTicks}); returns its id. */
  static long tickUntilLeader(Network net, int maxTicks) {
    for (int i = 0; i < maxTicks && net.leader() == 0; i++) {
      net.tickAll(1);
    }
    return net.leader();
  }

  /** Data of the entries a node applied, empty entries (leaders' no-ops, conf changes) left out. */
  static List<String> appliedData(Network net, long id) {
    return net.applied.get(id).stream()
        .filter(e -> e.type() == EntryType.NORMAL && e.data().length > 0)
        .map(e -> string(e.data()))
        .toList();
  }
}
