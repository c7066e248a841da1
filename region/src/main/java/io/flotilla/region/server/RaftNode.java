package io.flotilla.region.server;

import io.flotilla.engine.raft.Message;
import io.flotilla.engine.transport.GroupMessage;
import io.flotilla.engine.transport.NodeResolver;
import io.flotilla.engine.transport.RaftMessageHandler;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.engine.transport.TransportConfig;
import io.flotilla.region.driver.DriverConfig;
import io.flotilla.region.driver.GroupRouting;
import io.flotilla.region.driver.MessageBus;
import io.flotilla.region.driver.RaftDriver;
import io.flotilla.region.snapshot.SnapshotStreams;
import io.flotilla.region.storage.NodeStorage;
import io.flotilla.region.storage.StorageConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node process's Raft machinery: its RocksDB ({@link NodeStorage}), its Netty
 * {@link RaftTransport} and the {@link RaftDriver} that runs its groups on them. Stores and the
 * placement driver both run on one.
 *
 * <p>Threads: {@link #start} and {@link #close} from one owner; the rest from any thread.
 */
public final class RaftNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

  private final long nodeId;
  private final NodeStorage storage;
  private final RaftTransport transport;
  private final RaftDriver driver;
  private final Map<Long, Long> lastUnreachableReport = new ConcurrentHashMap<>();
  private volatile InboundFilter inboundFilter;
  private volatile SnapshotAssembler assembler;
  /** How snapshots cross the snapshot lane; in heap until {@link #setSnapshotStreams}. */
  private final AtomicReference<SnapshotStreams> snapshotStreams;

  /**
   * Sees every inbound Raft message (and every assembled snapshot) before the driver does, e.g. to
   * create a replica for a group this node does not run yet. Called on transport threads; must not
   * block.
   */
  @FunctionalInterface
  public interface InboundFilter {
    /** Whether to hand {@code m} to the driver; false drops it (Raft tolerates loss). */
    boolean accept(long fromNodeId, long groupId, Message m);
  }

  private RaftNode(long nodeId, NodeStorage storage, RaftTransport transport, RaftDriver driver,
      AtomicReference<SnapshotStreams> snapshotStreams) {
    this.nodeId = nodeId;
    this.snapshotStreams = snapshotStreams;
    this.storage = storage;
    this.transport = transport;
    this.driver = driver;
  }

  /**
   * Opens the node's storage, starts its transport on {@code listen} (port 0 picks one) and its
   * driver. Groups found in storage are not started: their owner (region layer, PD, a test)
   * starts them with their state machines through {@link #driver()}.
   */
  public static RaftNode start(long nodeId, InetSocketAddress listen, NodeResolver resolver,
      StorageConfig storageConfig, TransportConfig transportConfig, DriverConfig driverConfig,
      GroupRouting routing) {
    return start(nodeId, listen, resolver, storageConfig, transportConfig, driverConfig, routing,
        UnaryOperator.identity());
  }

  /**
   * Like {@link #start(long, InetSocketAddress, NodeResolver, StorageConfig, TransportConfig,
   * DriverConfig, GroupRouting)}, with the driver's {@link MessageBus} (a {@link TransportBus})
   * passed through {@code busDecorator} first: tests wrap it to drop messages or cut links.
   */
  public static RaftNode start(long nodeId, InetSocketAddress listen, NodeResolver resolver,
      StorageConfig storageConfig, TransportConfig transportConfig, DriverConfig driverConfig,
      GroupRouting routing, UnaryOperator<MessageBus> busDecorator) {
    RaftDriver.SnapshotHook hook = new RaftDriver.SnapshotHook();
    NodeStorage storage = NodeStorage.open(storageConfig, hook);
    RaftTransport transport = new RaftTransport(nodeId, transportConfig, resolver);
    AtomicReference<SnapshotStreams> streams = new AtomicReference<>(SnapshotStreams.HEAP);
    MessageBus bus = busDecorator.apply(new TransportBus(transport, streams::get));
    RaftDriver driver = new RaftDriver(nodeId, driverConfig, storage, bus, routing, hook);
    RaftNode node = new RaftNode(nodeId, storage, transport, driver, streams);
    try {
      node.assembler = new SnapshotAssembler(node::deliverInbound, streams::get);
      transport.setSnapshotReceiver(node.assembler);
      InetSocketAddress bound = transport.start(listen, node.handler());
      driver.start();
      LOG.info("raft node {} listening on {} [data={} groups on disk={}]", nodeId, bound,
          storageConfig.dataDir(), storage.groupIds().size());
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    return node;
  }

  private RaftMessageHandler handler() {
    return new RaftMessageHandler() {
      @Override
      public void onRaftMessages(long fromNodeId, List<GroupMessage> messages) {
        for (GroupMessage gm : messages) {
          deliverInbound(fromNodeId, gm.groupId(), gm.message());
        }
      }

      @Override
      public void onPeerUnreachable(long node) {
        // NB: at most every 100 ms per node, as this fires on every flush while the peer is down.
        long now = System.nanoTime();
        Long last = lastUnreachableReport.get(node);
        if (last == null || now - last > TimeUnit.MILLISECONDS.toNanos(100)) {
          lastUnreachableReport.put(node, now);
          driver.reportUnreachableNode(node);
        }
      }
    };
  }

  /**
   * How this node's snapshots travel (a store: {@code RegionSnapshots.streams()}, SST files disk to
   * disk). Set it before starting groups whose state machine needs it; until then snapshots are in
   * heap, and a file snapshot arriving meanwhile is refused (the sender retries).
   */
  public void setSnapshotStreams(SnapshotStreams streams) {
    snapshotStreams.set(streams);
  }

  /** Installs the filter every inbound message passes first (null: none). */
  public void setInboundFilter(InboundFilter filter) {
    this.inboundFilter = filter;
  }

  /** Whether {@code m} reached the group's mailbox. */
  boolean deliverInbound(long fromNodeId, long groupId, Message m) {
    InboundFilter f = inboundFilter;
    return (f == null || f.accept(fromNodeId, groupId, m)) && driver.deliver(groupId, m);
  }

  /** Keeps connections (and so liveness heartbeats) up to these nodes. */
  public void connect(List<Long> nodes) {
    for (long n : nodes) {
      if (n != nodeId) {
        transport.connect(n);
      }
    }
  }

  public long nodeId() {
    return nodeId;
  }

  /** Snapshots being received from other nodes now (first chunk in, not yet complete or aborted). */
  public int receivingSnapshots() {
    SnapshotAssembler a = assembler;
    return a == null ? 0 : a.receiving();
  }

  public int port() {
    return transport.port();
  }

  public RaftDriver driver() {
    return driver;
  }

  public NodeStorage storage() {
    return storage;
  }

  public RaftTransport transport() {
    return transport;
  }

  @Override
  public void close() {
    driver.close();
    transport.close();
    storage.close();
  }
}
