package io.flotilla.pd.server;

import com.google.protobuf.ByteString;
import io.flotilla.engine.client.PdClientConfig;
import io.flotilla.engine.client.PdException;
import io.flotilla.engine.client.RemotePdClient;
import io.flotilla.engine.proto.PdErrorType;
import io.flotilla.engine.proto.Peer;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.proto.RegionEpoch;
import io.flotilla.engine.proto.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Builders and helpers shared by the PD tests. */
final class PdFixtures {
  private PdFixtures() {}

  /** One member on 127.0.0.1:0 with fast ticks (elections in 100-200 ms). */
  static PdConfig fastSingle(Path dir) {
    return PdConfig.singleMember(dir).withTicks(10, 10).withRequestTimeoutMs(3_000);
  }

  static RemotePdClient client(List<String> addresses) {
    return new RemotePdClient(addresses, PdClientConfig.defaults().withCallTimeoutMs(8_000)
        .withAttemptTimeoutMs(1_000).withBackoffMs(10, 200));
  }

  static Store store(long id, String address) {
    return Store.newBuilder().setId(id).setAddress(address).setVersion("test").build();
  }

  static Peer peer(long id, long storeId) {
    return Peer.newBuilder().setId(id).setStoreId(storeId).build();
  }

  static Region region(long id, String start, String end, long version, long confVer, Peer... peers) {
    return Region.newBuilder()
        .setId(id)
        .setStartKey(ByteString.copyFrom(start, StandardCharsets.UTF_8))
        .setEndKey(ByteString.copyFrom(end, StandardCharsets.UTF_8))
        .setEpoch(RegionEpoch.newBuilder().setVersion(version).setConfVer(confVer))
        .addAllPeers(List.of(peers))
        .build();
  }

  static byte[] key(String k) {
    return k.getBytes(StandardCharsets.UTF_8);
  }

  static String str(ByteString b) {
    return b.toStringUtf8();
  }

  static <T> T get(CompletableFuture<T> f) {
    try {
      return f.get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The PD error type a call failed with; fails if it succeeded or failed otherwise. */
  static PdErrorType errorOf(CompletableFuture<?> f) {
    try {
      f.get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof PdException pe) {
        return pe.type();
      }
      throw new AssertionError("failed with " + e.getCause() + ", not a PdException", e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
    throw new AssertionError("succeeded, expected a PD error");
  }

  /** A port nothing listens on right now (bound then released). */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
