/**
 * The cluster test kit: one {@link io.flotilla.region.testkit.FaultNetwork} (cut, isolate, loss,
 * heal) with an in-process implementation ({@link io.flotilla.region.testkit.InProcessNetwork}) and
 * one over the real Netty transport ({@link io.flotilla.region.testkit.NettyNetwork}); one cluster
 * handle, {@link io.flotilla.region.testkit.RaftCluster}, implemented over each; and {@link
 * io.flotilla.region.testkit.ClusterScenarios}, written once and run over both by {@code
 * InProcessClusterTest} and {@code NettyClusterTest}. A new scenario goes into ClusterScenarios
 * unless it needs what only one network has.
 *
 * <p>It lives in region's test sources because everything it drives (drivers, RaftNode, RocksDB)
 * is region's; the in-memory PD, which router's tests need too, is in engine's test kit
 * ({@code io.flotilla.engine.testkit}).
 */
package io.flotilla.region.testkit;
