/** The client: routing requests to region leaders, retries, cross-region scans. */
package io.flotilla.router;
