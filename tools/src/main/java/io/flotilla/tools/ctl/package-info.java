/** {@code flotilla ctl}: the placement driver admin tool (stores, regions, operators, schedulers, health). */
package io.flotilla.tools.ctl;
