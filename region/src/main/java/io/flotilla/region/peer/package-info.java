/** A region replica and its KV state machine. */
package io.flotilla.region.peer;
