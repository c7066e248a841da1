/** Region split: size and key tracking, split proposals. */
package io.flotilla.region.split;
