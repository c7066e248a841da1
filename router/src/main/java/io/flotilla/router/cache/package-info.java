/** The region cache: key to region lookups, repaired from errors. */
package io.flotilla.router.cache;
