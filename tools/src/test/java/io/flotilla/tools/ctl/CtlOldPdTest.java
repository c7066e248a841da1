package io.flotilla.tools.ctl;

import static io.flotilla.tools.ctl.CtlRun.ctl;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.client.HostPort;
import io.flotilla.engine.client.PdMethods;
import io.flotilla.engine.proto.GetMembersResponse;
import io.flotilla.engine.proto.Member;
import io.flotilla.engine.transport.RaftTransport;
import io.flotilla.engine.transport.TransportConfig;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Commands whose admin RPCs a PD does not implement fail in one line, exit code 1, naming the RPC.
 * The PD here is a stand-in that knows only {@code pd.get_members} (like a PD older than ctl), so
 * the test does not depend on how far the real PD's admin RPCs are.
 */
class CtlOldPdTest {
  static RaftTransport oldPd;
  static String pd;

  @BeforeAll
  static void startOldPd() {
    oldPd = new RaftTransport(1, TransportConfig.defaults().withIoThreads(1), id -> null);
    InetSocketAddress bound = oldPd.start(new InetSocketAddress("127.0.0.1", 0), (from, messages) -> { });
    pd = HostPort.format(bound);
    Member self = Member.newBuilder().setId(1).setAddress(pd).build();
    byte[] members = GetMembersResponse.newBuilder().setClusterId(42).addMembers(self).setLeader(self).build()
        .toByteArray();
    oldPd.registerRpc(PdMethods.GET_MEMBERS, request -> CompletableFuture.completedFuture(members));
  }

  @AfterAll
  static void stopOldPd() {
    oldPd.close();
  }

  @Test
  void adminCommandsFailCleanlyNamingTheRpcPdLacks() {
    String[][] cases = {
        {"pd.set_store_state", "store offline/remove", "store", "offline", "4"},
        {"pd.add_operator", "operators", "region", "move", "2", "--from-store", "1", "--to-store", "4"},
        {"pd.list_operators", "operators", "operator", "list"},
        {"pd.set_scheduler", "schedulers", "scheduler", "disable", "balance-leader"},
        {"pd.tso", "timestamps", "tso"},
    };
    for (String[] c : cases) {
      String[] args = new String[c.length - 2 + 2];
      args[0] = "--timeout";
      args[1] = "1s";
      System.arraycopy(c, 2, args, 2, c.length - 2);
      CtlRun r = ctl(pd, args);

      assertThat(r.exit()).as(r.toString()).isEqualTo(1);
      assertThat(r.err().lines()).as(r.toString()).hasSize(1);
      assertThat(r.err()).contains("PD at " + pd + " does not support " + c[0] + " (" + c[1] + ") yet");
      assertThat(r.out()).isEmpty();
    }
  }
}
