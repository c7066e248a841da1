package io.flotilla.region.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.Entry;
import io.flotilla.engine.raft.EntryType;
import io.flotilla.engine.raft.HardState;
import io.flotilla.engine.raft.SnapshotMetadata;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CodecTest {
  @Test
  void entriesRoundTripWithTermTypeAndData() {
    Entry e = new Entry(7, 42, EntryType.CONF_CHANGE, new byte[] {1, 2, 3});
    byte[] v = Codec.encodeEntry(e);
    assertThat(v).hasSize(10 + 3);
    assertThat(v[0]).isEqualTo(Codec.V1);
    assertThat(Codec.decodeEntry(42, v)).isEqualTo(e);
    assertThat(Codec.decodeEntryTerm(42, v)).isEqualTo(7);
    assertThat(Codec.decodeEntry(1, Codec.encodeEntry(Entry.empty(1, 1)))).isEqualTo(Entry.empty(1, 1));
  }

  @Test
  void statesRoundTrip() {
    HardState hs = new HardState(3, 2, Long.MAX_VALUE);
    assertThat(Codec.decodeHardState(Codec.encodeHardState(hs))).isEqualTo(hs);
    ApplyState as = new ApplyState(10, 5, 2);
    assertThat(Codec.decodeApplyState(Codec.encodeApplyState(as))).isEqualTo(as);
    ConfState joint = new ConfState(List.of(1L, 2L), List.of(3L), List.of(1L, 4L), List.of(4L), true);
    LocalState ls = new LocalState(new SnapshotMetadata(joint, 9, 3), ConfState.ofVoters(1L), 12);
    assertThat(Codec.decodeLocalState(Codec.encodeLocalState(ls))).isEqualTo(ls);
  }

  @Test
  void unknownVersionsAndTruncatedValuesAreRefused() {
    byte[] v = Codec.encodeHardState(new HardState(1, 1, 1));
    v[0] = 2;
    assertThatThrownBy(() -> Codec.decodeHardState(v))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("version 2");
    assertThatThrownBy(() -> Codec.decodeEntry(1, new byte[] {1, 0}))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("corrupt");
    byte[] ls = Codec.encodeLocalState(new LocalState(SnapshotMetadata.EMPTY, ConfState.EMPTY, 0));
    assertThatThrownBy(() -> Codec.decodeLocalState(Arrays.copyOf(ls, ls.length - 3)))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void keysSortByGroupThenTagThenIndex() {
    byte[][] ordered = {
        Keys.entry(1, 0), Keys.entry(1, 255), Keys.entry(1, 256), Keys.entry(1, Long.MAX_VALUE),
        Keys.hardState(1), Keys.applyState(1), Keys.groupEnd(1), Keys.entry(2, 1),
        Keys.entry(Long.MAX_VALUE - 1, 1),
    };
    for (int i = 1; i < ordered.length; i++) {
      assertThat(Arrays.compareUnsigned(ordered[i - 1], ordered[i])).as("key %d < key %d", i - 1, i)
          .isNegative();
    }
    assertThat(Keys.logEnd(1)).isEqualTo(Keys.hardState(1));
    assertThat(Keys.entryIndex(Keys.entry(9, 123_456_789_012L))).isEqualTo(123_456_789_012L);
    assertThat(Keys.groupId(Keys.applyState(77))).isEqualTo(77);
    assertThat(Keys.isEntryOf(Keys.entry(3, 1), 3)).isTrue();
    assertThat(Keys.isEntryOf(Keys.hardState(3), 3)).isFalse();
  }
}
