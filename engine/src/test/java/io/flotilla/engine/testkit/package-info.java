/**
 * Test doubles shared by the modules' tests, shipped in engine's test-jar (only this package):
 * {@link io.flotilla.engine.testkit.InMemoryPd}, the in-memory PD that region's store tests and
 * router's tests both use. Consume it with {@code <type>test-jar</type><scope>test</scope>}.
 */
package io.flotilla.engine.testkit;
