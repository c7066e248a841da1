/** Throughput and latency benchmarks, workloads and reports. */
package io.flotilla.bench;
