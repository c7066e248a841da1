/** The embedding facade (LocalCluster) and the placement driver. */
package io.flotilla.pd;
