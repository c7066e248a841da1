/**
 * Netty transport: framing, per-destination batching of Raft messages, request/response RPC,
 * node liveness heartbeats and snapshot streaming.
 *
 * <p>Entry points: {@link io.flotilla.engine.transport.RaftTransport} (a node's endpoint) and
 * {@link io.flotilla.engine.transport.RpcClient} (a client that is not a node, e.g. the router).
 * The wire format is {@code transport.proto}: a 4-byte length prefix, then one {@code Frame}.
 *
 * <p>Roles inside: {@code PeerLink} (this node's queue, connection, heartbeat and snapshot lane
 * towards one node), {@code ClientConnection}/{@code Dialer} (the dialing side of a connection),
 * {@code TransportServer}/{@code ServerConnection} (the accepting side), {@code FrameDecoder} and
 * {@code Frames} (framing), {@link io.flotilla.engine.transport.RaftMessageCodec} (core message to
 * wire), {@code RpcDispatcher} (serving RPCs), {@code SnapshotSender}/{@code SnapshotLane}/{@code
 * SnapshotInbound} (snapshot streams), {@code ProtocolErrors} (the one way a bad peer is cut off).
 */
package io.flotilla.engine.transport;
