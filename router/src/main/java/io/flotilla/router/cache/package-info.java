/**
 * The region cache: key to region look-ups without PD, repaired from store errors ({@link
 * io.flotilla.router.cache.RegionCache}); PD look-ups on a miss ({@link
 * io.flotilla.router.cache.RegionLocator}); store addresses ({@link
 * io.flotilla.router.cache.StoreAddresses}). Used by the router; public only so the router's
 * packages can share it, not a user API.
 */
package io.flotilla.router.cache;
