package io.flotilla.engine.raft;

/** What an entry's data holds: an application command, or a {@link ConfChange}. */
public enum EntryType {
  NORMAL,
  CONF_CHANGE
}
