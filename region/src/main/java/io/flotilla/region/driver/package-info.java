/** Runs thousands of Raft groups on a few poller threads, with hibernation of idle groups. */
package io.flotilla.region.driver;
