package io.flotilla.engine.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.flotilla.engine.raft.Message;
import io.flotilla.engine.raft.MessageType;
import io.flotilla.engine.raft.Snapshot;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.engine.raft.ConfState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Snapshots stream in CRC32C-checked chunks on their own lane. */
class SnapshotTransferTest {

  private static final int CHUNK = 64 * 1024;

  /** Collects what the receiving node stored, per transfer. */
  static final class Store implements SnapshotReceiver {
    record Received(long fromNodeId, long groupId, Message message, byte[] data) {}

    final CopyOnWriteArrayList<Received> completed = new CopyOnWriteArrayList<>();
    final CopyOnWriteArrayList<Throwable> aborted = new CopyOnWriteArrayList<>();
    volatile long chunkDelayMs;

    @Override
    public SnapshotSink begin(long fromNodeId, long groupId, long snapshotId, Message message) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      return new SnapshotSink() {
        @Override
        public CompletableFuture<Void> onChunk(byte[] data) {
          long delay = chunkDelayMs;
          if (delay == 0) {
            out.writeBytes(data);
            return CompletableFuture.completedFuture(null);
          }
          // A slow disk: the write completes later, on another thread.
          Executor later = CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS);
          return CompletableFuture.runAsync(() -> out.writeBytes(data), later);
        }

        @Override
        public CompletableFuture<Void> onComplete() {
          completed.add(new Received(fromNodeId, groupId, message, out.toByteArray()));
          return CompletableFuture.completedFuture(null);
        }

        @Override
        public void onAbort(Throwable cause) {
          aborted.add(cause);
        }
      };
    }
  }

  private TransportTestSupport nodes;
  private RaftTransport leader;
  private RaftTransport follower;
  private final Store store = new Store();

  @BeforeEach
  void setUp() {
    nodes = new TransportTestSupport();
    TransportConfig config = TransportTestSupport.fastConfig().withSnapshotChunkBytes(CHUNK);
    leader = nodes.start(1, config, 0, System::nanoTime);
    follower = nodes.start(2, config, 0, System::nanoTime);
    follower.setSnapshotReceiver(store);
  }

  @AfterEach
  void tearDown() throws Exception {
    nodes.close();
  }

  @Test
  void aMultiMegabyteSnapshotArrivesIntactWithItsMessage() throws Exception {
    byte[] data = randomBytes(5 * 1024 * 1024 + 123);
    Message msg = snapshotMessage();
    leader.sendSnapshot(2, 77, msg, new ByteArrayInputStream(data)).get(10, TimeUnit.SECONDS);

    assertThat(store.completed).singleElement().satisfies(r -> {
      assertThat(r.fromNodeId()).isEqualTo(1);
      assertThat(r.groupId()).isEqualTo(77);
      assertThat(r.data()).isEqualTo(data);
      RaftMessageCodecTest.assertSame(r.message(), msg);
    });
    assertThat(leader.metrics().snapshotChunksSent()).isEqualTo(data.length / CHUNK + 1);
    assertThat(follower.metrics().snapshotChunksReceived()).isEqualTo(data.length / CHUNK + 1);
  }

  @Test
  void emptyAndChunkAlignedSnapshotsEndCleanly() throws Exception {
    leader.sendSnapshot(2, 1, null, new ByteArrayInputStream(new byte[0]))
        .get(10, TimeUnit.SECONDS);
    byte[] aligned = randomBytes(4 * CHUNK);
    leader.sendSnapshot(2, 2, null, new ByteArrayInputStream(aligned)).get(10, TimeUnit.SECONDS);
    assertThat(store.completed).hasSize(2);
    assertThat(store.completed.get(0).data()).isEmpty();
    assertThat(store.completed.get(1).data()).isEqualTo(aligned);
    assertThat(store.completed.get(1).message()).isNull();
  }

  @Test
  void aCorruptedChunkFailsTheTransferWithATypedErrorAndALogLine() throws Exception {
    byte[] data = randomBytes(3 * 1024 * 1024);
    leader.snapshotSender().tamperForTest = (seq, bytes) -> {
      if (seq != 5) {
        return bytes;
      }
      byte[] flipped = bytes.clone();
      flipped[100] ^= 0x10;
      return flipped;
    };
    try (var log = new TransportTestSupport.LogCapture(SnapshotInbound.class)) {
      CompletableFuture<Void> transfer =
          leader.sendSnapshot(2, 9, null, new ByteArrayInputStream(data));
      assertThatThrownBy(() -> transfer.get(10, TimeUnit.SECONDS))
          .cause()
          .isInstanceOfSatisfying(SnapshotTransferException.class, e -> assertThat(e.reason())
              .isEqualTo(SnapshotTransferException.Reason.CHECKSUM_MISMATCH))
          .hasMessageContaining("chunk 5");
      assertThat(log.warnings()).singleElement().asString()
          .contains("group=9").contains("chunk 5").contains("CRC32C");
    }
    await().atMost(5, TimeUnit.SECONDS).until(() -> store.aborted.size() == 1);
    assertThat(store.aborted.get(0)).isInstanceOf(SnapshotTransferException.class);
    assertThat(store.completed).isEmpty();
    assertThat(follower.metrics().snapshotChecksumFailures()).isEqualTo(1);

    // The lane survives a bad chunk: a clean retry goes through.
    leader.snapshotSender().tamperForTest = null;
    leader.sendSnapshot(2, 9, null, new ByteArrayInputStream(data)).get(10, TimeUnit.SECONDS);
    assertThat(store.completed).singleElement()
        .satisfies(r -> assertThat(r.data()).isEqualTo(data));
  }

  @Test
  void raftTrafficIsNotStuckBehindASlowSnapshot() throws Exception {
    store.chunkDelayMs = 40; // 20 chunks: the transfer takes about 800 ms
    CompletableFuture<Void> transfer =
        leader.sendSnapshot(2, 3, null, new ByteArrayInputStream(randomBytes(20 * CHUNK)));
    await().atMost(5, TimeUnit.SECONDS)
        .until(() -> follower.metrics().snapshotChunksReceived() >= 2);
    for (int i = 1; i <= 5; i++) {
      int expected = i;
      long sent = System.nanoTime();
      leader.send(2, 3, TransportTestSupport.heartbeat(1, 2, i));
      leader.flush();
      await().atMost(5, TimeUnit.SECONDS)
          .pollInterval(1, TimeUnit.MILLISECONDS)
          .until(() -> nodes.inbox(2).messageCount() == expected);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent))
          .as("heartbeat latency during a snapshot").isLessThan(200);
    }
    assertThat(transfer).isNotDone();
    transfer.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aNodeWithoutReceiverRejectsSnapshots() {
    follower.setSnapshotReceiver(null);
    assertThatThrownBy(() -> leader.sendSnapshot(2, 4, null,
        new ByteArrayInputStream(randomBytes(10))).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(SnapshotTransferException.class, e -> assertThat(e.reason())
            .isEqualTo(SnapshotTransferException.Reason.REJECTED));
  }

  @Test
  void aFailingSourceAbortsTheTransferOnBothSides() {
    InputStream failing = new InputStream() {
      private int left = 3 * CHUNK;

      @Override
      public int read() throws IOException {
        if (left-- <= 0) {
          throw new IOException("disk on fire");
        }
        return 7;
      }
    };
    assertThatThrownBy(() -> leader.sendSnapshot(2, 5, null, failing).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(SnapshotTransferException.class, e -> assertThat(e.reason())
            .isEqualTo(SnapshotTransferException.Reason.SOURCE_FAILED));
    await().atMost(5, TimeUnit.SECONDS).until(() -> store.aborted.size() == 1);
    assertThat(store.completed).isEmpty();
  }

  private static Message snapshotMessage() {
    Snapshot snap = new Snapshot(new byte[] {1, 2, 3},
        new SnapshotMetadata(ConfState.ofVoters(1L, 2L, 3L), 1000, 7));
    return Message.builder(MessageType.SNAPSHOT).from(1).to(2).term(7).snapshot(snap).build();
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }
}
