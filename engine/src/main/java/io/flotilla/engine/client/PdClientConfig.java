package io.flotilla.engine.client;

import io.flotilla.engine.transport.TransportConfig;

/**
 * Settings of a {@link RemotePdClient}. Immutable; {@link #validate()} names the first bad setting
 * and its allowed range.
 *
 * @param callTimeoutMs deadline of one PdClient call, over every attempt, redirect and fail-over
 * @param attemptTimeoutMs deadline of one RPC to one PD member (capped by what is left of the
 *     call's); past it the client tries the next member
 * @param backoffMinMs first pause before retrying after a failed attempt (no leader, member down)
 * @param backoffMaxMs cap of the doubling, jittered pause
 * @param transport settings of the client's own {@link io.flotilla.engine.transport.RpcClient}
 */
public record PdClientConfig(
    long callTimeoutMs,
    long attemptTimeoutMs,
    long backoffMinMs,
    long backoffMaxMs,
    TransportConfig transport) {

  /** 10 s per call, 3 s per attempt, backoff from 20 ms up to 1 s. */
  public static PdClientConfig defaults() {
    return new PdClientConfig(10_000, 3_000, 20, 1_000,
        TransportConfig.defaults().withIoThreads(1));
  }

  public PdClientConfig validate() {
    check("callTimeoutMs", callTimeoutMs, 1, 3_600_000);
    check("attemptTimeoutMs", attemptTimeoutMs, 1, 3_600_000);
    check("backoffMinMs", backoffMinMs, 1, 60_000);
    check("backoffMaxMs", backoffMaxMs, backoffMinMs, 600_000);
    if (transport == null) {
      throw new IllegalArgumentException("transport: required");
    }
    transport.validate();
    return this;
  }

  private static void check(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + ": must be in [" + min + ", " + max + "], got " + value);
    }
  }

  public PdClientConfig withCallTimeoutMs(long v) {
    return new PdClientConfig(v, attemptTimeoutMs, backoffMinMs, backoffMaxMs, transport);
  }

  public PdClientConfig withAttemptTimeoutMs(long v) {
    return new PdClientConfig(callTimeoutMs, v, backoffMinMs, backoffMaxMs, transport);
  }

  public PdClientConfig withBackoffMs(long min, long max) {
    return new PdClientConfig(callTimeoutMs, attemptTimeoutMs, min, max, transport);
  }

  public PdClientConfig withTransport(TransportConfig v) {
    return new PdClientConfig(callTimeoutMs, attemptTimeoutMs, backoffMinMs, backoffMaxMs, v);
  }
}
