/** The store server: RPC handlers for KV requests and admin commands. */
package io.flotilla.region.server;
