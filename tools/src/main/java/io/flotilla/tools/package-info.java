/** The flotilla command line. */
package io.flotilla.tools;
