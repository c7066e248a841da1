/** Operators: step-by-step region changes handed to region leaders. */
package io.flotilla.pd.operator;
