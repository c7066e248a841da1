package io.flotilla.region.server;

import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.DroppedException;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.LogStateMachine;
import io.flotilla.region.driver.NotLeaderException;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.storage.StorageConfig;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One node of {@link RaftNodeCrashTest}, in its own JVM: a {@link RaftNode} on a fixed data dir and
 * port hosting groups 1..N (a {@link LogStateMachine} each), serving three RPC methods on its
 * transport, and printing {@code READY node=<id> pid=<pid>} once it serves them. It exits when its
 * standard input closes, so it never outlives the test JVM, and when its driver stops on an error.
 *
 * <p>Arguments: {@code <nodeId> <dataDir> <groups> <id>=<port>,<id>=<port>,...}
 *
 * <h2>RPC (all on the node's transport)</h2>
 *
 * <table>
 *   <caption>Methods</caption>
 *   <tr><th>method</th><th>request</th><th>response</th></tr>
 *   <tr><td>{@code propose}</td><td>group id (8 bytes), command</td><td>one status byte
 *       ({@link #APPLIED}, {@link #NOT_LEADER} + leader node (8 bytes, 0 = unknown), {@link #DROPPED},
 *       {@link #UNKNOWN})</td></tr>
 *   <tr><td>{@code dump}</td><td>group id</td><td>count (4 bytes), then each applied command as
 *       length (4 bytes) and bytes, in index order</td></tr>
 *   <tr><td>{@code leader}</td><td>group id</td><td>the leader's peer id (= node id), 0 if unknown</td></tr>
 * </table>
 */
public final class CrashNodeMain {
  static final byte APPLIED = 0;
  static final byte NOT_LEADER = 1;
  static final byte DROPPED = 2;
  static final byte UNKNOWN = 3;
  /** Logged, followed by a count, when this process applied snapshots sent by a leader. */
  static final String SNAPSHOTS_APPLIED = "SNAPSHOTS APPLIED +";

  private CrashNodeMain() {}

  /** A short log: followers that were down a while catch up by snapshot. */
  static DriverConfig driverConfig() {
    return DriverConfig.defaults().withTickIntervalMs(50).withPollerThreads(1).withNodeDeadAfterMs(600)
        .withProposalTimeoutMs(3_000).withCompactLogAfterEntries(40);
  }

  static TransportConfig transportConfig() {
    return TransportConfig.defaults().withIoThreads(1).withHeartbeatIntervalMs(100)
        .withReconnectBackoffMs(50, 300);
  }

  public static void main(String[] args) throws Exception {
    long nodeId = Long.parseLong(args[0]);
    Path dataDir = Path.of(args[1]);
    int groups = Integer.parseInt(args[2]);
    Map<Long, InetSocketAddress> addresses = new TreeMap<>();
    for (String pair : args[3].split(",")) {
      String[] kv = pair.split("=");
      addresses.put(Long.parseLong(kv[0]), new InetSocketAddress("127.0.0.1", Integer.parseInt(kv[1])));
    }
    exitWhenStdinCloses();
    try {
      run(nodeId, dataDir, groups, addresses);
    } catch (Throwable e) {
      System.out.println("FAILED node=" + nodeId + ": " + e);
      e.printStackTrace(System.out);
      System.out.flush();
      Runtime.getRuntime().halt(2);
    }
  }

  private static void run(long nodeId, Path dataDir, int groups, Map<Long, InetSocketAddress> addresses)
      throws InterruptedException {
    RaftNode node = RaftNode.start(nodeId, addresses.get(nodeId), addresses::get,
        StorageConfig.defaults(dataDir).withBlockCacheBytes(16L << 20), transportConfig(), driverConfig(),
        GroupRouting.IDENTITY);
    LogStateMachine sm = new LogStateMachine(node.storage());
    List<Long> peers = new ArrayList<>(addresses.keySet());
    for (long g = 1; g <= groups; g++) {
      node.driver().startGroup(g, nodeId, peers, sm);
    }
    register(node.transport(), node.driver(), sm);
    node.connect(peers);
    System.out.println("READY node=" + nodeId + " pid=" + ProcessHandle.current().pid());
    System.out.flush();
    // Runs until killed or its stdin closes; a driver that stopped on an error ends the process,
    // so the test sees it instead of waiting for a dead node to converge.
    long snapshots = 0;
    while (node.driver().failure() == null) {
      Thread.sleep(100);
      long now = node.driver().counters().snapshotsApplied();
      if (now > snapshots) {
        System.out.println(SNAPSHOTS_APPLIED + (now - snapshots));
        System.out.flush();
        snapshots = now;
      }
    }
    System.out.println("DRIVER FAILED node=" + nodeId);
    node.driver().failure().printStackTrace(System.out);
    System.out.flush();
    Runtime.getRuntime().halt(4);
  }

  private static void register(RaftTransport transport, RaftDriver driver, LogStateMachine sm) {
    transport.registerRpc("propose", request -> {
      ByteBuffer in = ByteBuffer.wrap(request);
      long group = in.getLong();
      byte[] command = Arrays.copyOfRange(request, 8, request.length);
      return driver.propose(group, command).handle((result, ex) -> proposeResponse(ex));
    });
    transport.registerRpc("dump", request -> {
      long group = ByteBuffer.wrap(request).getLong();
      return CompletableFuture.supplyAsync(() -> encode(sm.applied(group)));
    });
    transport.registerRpc("leader", request -> {
      RaftDriver.GroupInfo info = driver.info(ByteBuffer.wrap(request).getLong());
      long leader = info == null ? 0 : info.leaderPeer();
      return CompletableFuture.completedFuture(ByteBuffer.allocate(8).putLong(leader).array());
    });
  }

  private static byte[] proposeResponse(Throwable ex) {
    Throwable cause = ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
    if (cause == null) {
      return new byte[] {APPLIED};
    }
    if (cause instanceof NotLeaderException nle) {
      return ByteBuffer.allocate(9).put(NOT_LEADER).putLong(nle.leaderNode()).array();
    }
    if (cause instanceof DroppedException) {
      return new byte[] {DROPPED};
    }
    return new byte[] {UNKNOWN};
  }

  static byte[] encode(List<byte[]> commands) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(commands.size());
      for (byte[] c : commands) {
        out.writeInt(c.length);
        out.write(c);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static List<byte[]> decode(byte[] response) {
    ByteBuffer in = ByteBuffer.wrap(response);
    int n = in.getInt();
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] c = new byte[in.getInt()];
      in.get(c);
      out.add(c);
    }
    return out;
  }

  /** The test JVM holds our stdin open; when it goes away, so do we. */
  private static void exitWhenStdinCloses() {
    Thread t = new Thread(() -> {
      try {
        while (System.in.read() >= 0) {
          // nothing is sent on stdin
        }
      } catch (IOException e) {
        // treated as closed
      }
      Runtime.getRuntime().halt(3);
    }, "stdin-watch");
    t.setDaemon(true);
    t.start();
  }
}
