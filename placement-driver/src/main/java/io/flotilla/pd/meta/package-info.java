/** Cluster metadata: stores, regions, id allocation. */
package io.flotilla.pd.meta;
