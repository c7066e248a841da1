/** Netty transport: framing, per-destination batching of Raft messages, request/response RPC. */
package io.flotilla.engine.transport;
