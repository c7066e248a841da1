package io.flotilla.engine.raft;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RaftSmokeTest {
  @Test
  void threeNodesElectAndCommit() {
    Network net = Network.of(3);
    net.campaign(1);
    assertThat(net.leader()).isEqualTo(1);
    net.propose(1, "a");
    net.propose(2, "b");
    for (long id = 1; id <= 3; id++) {
      assertThat(net.applied.get(id)).hasSize(3);
      assertThat(new String(net.applied.get(id).get(2).data())).isEqualTo("b");
    }
  }
}
