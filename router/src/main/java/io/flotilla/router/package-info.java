/**
 * The client: routing requests to region leaders, retries, cross-region scans.
 *
 * <p>Public API, free of protobuf and Netty types: {@link io.flotilla.router.KvClient} (blocking),
 * {@link io.flotilla.router.AsyncKvClient} ({@code CompletableFuture}s), {@link
 * io.flotilla.router.AsyncScanner}, {@link io.flotilla.router.RouterConfig}, the values {@link
 * io.flotilla.router.KvEntry} and {@link io.flotilla.router.CasResult}, and the failures under
 * {@link io.flotilla.router.KvException}. Everything else here is package-private: {@code
 * RegionCall} (one request to one region, retried until its deadline), the {@code Requests} it
 * sends, {@code BatchWriter} and {@code RegionGroups} (multi-region writes and reads).
 */
package io.flotilla.router;
