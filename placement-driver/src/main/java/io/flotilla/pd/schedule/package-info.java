/** Schedulers and checkers: replica repair, leader and region balance. */
package io.flotilla.pd.schedule;
