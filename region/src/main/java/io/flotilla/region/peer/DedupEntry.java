package io.flotilla.region.peer;

import io.flotilla.engine.proto.WriteResponse;

/**
 * The last write a client had applied in a region: its sequence number and the answer it got. A
 * retried write with this {@code seq} gets {@code response} again instead of being applied twice.
 */
public record DedupEntry(long seq, WriteResponse response) {}
