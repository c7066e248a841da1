package io.flotilla.engine.raft;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A membership change: one or more single changes applied together. One change with
 * {@link Transition#AUTO} is a simple change; several changes, or an explicit transition, go
 * through joint consensus (Raft thesis §4.3). An empty change list leaves a joint configuration.
 */
public record ConfChange(Transition transition, List<ConfChangeSingle> changes, byte[] context) {

  /** How a change that needs joint consensus leaves the joint configuration. */
  public enum Transition {
    /** Simple change if possible, else joint consensus left automatically once it is applied. */
    AUTO,
    /** Joint consensus, left automatically once the joint configuration is applied. */
    JOINT_IMPLICIT,
    /** Joint consensus, left only when the application proposes an empty ConfChange. */
    JOINT_EXPLICIT
  }

  public ConfChange {
    changes = List.copyOf(changes);
    context = context == null ? new byte[0] : context;
  }

  public static ConfChange of(ConfChangeSingle... changes) {
    return new ConfChange(Transition.AUTO, List.of(changes), null);
  }

  public static ConfChange addNode(long id) {
    return of(new ConfChangeSingle(ConfChangeSingle.Type.ADD_NODE, id));
  }

  public static ConfChange addLearner(long id) {
    return of(new ConfChangeSingle(ConfChangeSingle.Type.ADD_LEARNER, id));
  }

  public static ConfChange removeNode(long id) {
    return of(new ConfChangeSingle(ConfChangeSingle.Type.REMOVE_NODE, id));
  }

  /** The change that leaves a joint configuration. */
  public static ConfChange leaveJoint() {
    return new ConfChange(Transition.AUTO, List.of(), null);
  }

  /** True if this change leaves a joint configuration. */
  public boolean isLeaveJoint() {
    return changes.isEmpty();
  }

  /**
   * Whether applying this change enters a joint configuration, and if so whether it leaves it
   * automatically. Returns {@code null} for a simple change.
   */
  public Boolean enterJointAutoLeave() {
    if (transition == Transition.AUTO && changes.size() <= 1) {
      return null;
    }
    return transition != Transition.JOINT_EXPLICIT;
  }

  /** Encodes this change as an entry's data. */
  public byte[] encode() {
    ByteBuffer buf = ByteBuffer.allocate(1 + 4 + changes.size() * 9 + 4 + context.length);
    buf.put((byte) transition.ordinal());
    buf.putInt(changes.size());
    for (ConfChangeSingle c : changes) {
      buf.put((byte) c.type().ordinal());
      buf.putLong(c.nodeId());
    }
    buf.putInt(context.length);
    buf.put(context);
    return buf.array();
  }

  /** Decodes {@link #encode}'s output; throws {@link IllegalArgumentException} on malformed data. */
  public static ConfChange decode(byte[] data) {
    try {
      ByteBuffer buf = ByteBuffer.wrap(data);
      Transition t = Transition.values()[buf.get()];
      int n = buf.getInt();
      if (n < 0 || n > buf.remaining() / 9) {
        throw new IllegalArgumentException("conf change with " + n + " changes in " + data.length + " bytes");
      }
      List<ConfChangeSingle> changes = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ConfChangeSingle.Type type = ConfChangeSingle.Type.values()[buf.get()];
        changes.add(new ConfChangeSingle(type, buf.getLong()));
      }
      byte[] ctx = new byte[buf.getInt()];
      buf.get(ctx);
      return new ConfChange(t, changes, ctx);
    } catch (RuntimeException e) {
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException("malformed conf change of " + data.length + " bytes", e);
    }
  }

  /** Entry data for a conf change entry. */
  public Entry toEntry() {
    return new Entry(0, 0, EntryType.CONF_CHANGE, encode());
  }
}
