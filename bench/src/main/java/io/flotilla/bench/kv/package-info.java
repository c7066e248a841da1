/**
 * {@code flotilla bench kv}: closed-loop gets and puts through the router client, against a
 * cluster started in this JVM ({@code --embedded}) or a running one ({@code --pd}).
 */
package io.flotilla.bench.kv;
