/** The PD server: RPC handlers, run as a Raft group. */
package io.flotilla.pd.server;
