/** PdClient: finds the placement driver leader, follows redirects, fails over. */
package io.flotilla.engine.client;
