package io.flotilla.region.peer;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.flotilla.engine.proto.ClientSession;
import io.flotilla.engine.proto.SessionAnswer;
import io.flotilla.engine.proto.WriteResponse;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * What a region remembers of one client's writes: the answers of the seqs at or above {@code floor}
 * that it applied. A retried write gets its stored answer instead of being applied twice; a write
 * below the floor is stale (its answer was forgotten because the client said it no longer waits
 * for it). Immutable.
 */
public record DedupEntry(long floor, NavigableMap<Long, WriteResponse> answers) {
  /** Answers kept per client at most, whatever the client says: bounds a misbehaving client. */
  static final int MAX_ANSWERS = 4096;

  private static final Class<?> FROZEN = java.util.Collections.unmodifiableNavigableMap(new TreeMap<>()).getClass();

  public DedupEntry {
    // NB: an unmodifiable view is a map nobody changes any more (a Builder hands its own over).
    if (answers.getClass() != FROZEN) {
      answers = java.util.Collections.unmodifiableNavigableMap(new TreeMap<>(answers));
    }
  }

  /** A client the region has not applied a write of yet. */
  public static final DedupEntry EMPTY = new DedupEntry(0, new TreeMap<>());

  /** Only {@code seq}'s answer, everything below it forgotten (a client with one write at a time). */
  public static DedupEntry single(long seq, WriteResponse response) {
    return new DedupEntry(seq, new TreeMap<>(Map.of(seq, response)));
  }

  public WriteResponse answer(long seq) {
    return answers.get(seq);
  }

  /**
   * After applying {@code seq} with {@code response}, with the client saying {@code minPending}
   * is the smallest seq it still waits for (0: {@code seq}).
   */
  public DedupEntry with(long seq, WriteResponse response, long minPending) {
    long newFloor = Math.max(floor, minPending == 0 ? seq : Math.min(minPending, seq));
    TreeMap<Long, WriteResponse> kept = new TreeMap<>(answers.tailMap(newFloor, true));
    kept.put(seq, response);
    while (kept.size() > MAX_ANSWERS) {
      kept.pollFirstEntry();
      newFloor = kept.firstKey();
    }
    return new DedupEntry(newFloor, kept);
  }

  /** A mutable copy to apply several writes to, then {@link Builder#build} once. */
  Builder toBuilder() {
    return new Builder(floor, answers);
  }

  /**
   * The same rules as {@link #with}, applied in place: the apply thread records many writes of one
   * client in one apply call at O(log n) each, and builds (and writes) the entry once per call
   * instead of copying and encoding every remembered answer per write. One thread.
   */
  static final class Builder {
    private long floor;
    private final TreeMap<Long, WriteResponse> answers;

    private Builder(long floor, NavigableMap<Long, WriteResponse> answers) {
      this.floor = floor;
      this.answers = new TreeMap<>(answers);
    }

    WriteResponse answer(long seq) {
      return answers.get(seq);
    }

    long floor() {
      return floor;
    }

    /** See {@link DedupEntry#with}. */
    void add(long seq, WriteResponse response, long minPending) {
      floor = Math.max(floor, minPending == 0 ? seq : Math.min(minPending, seq));
      while (!answers.isEmpty() && answers.firstKey() < floor) {
        answers.pollFirstEntry();
      }
      answers.put(seq, response);
      while (answers.size() > MAX_ANSWERS) {
        answers.pollFirstEntry();
        floor = answers.firstKey();
      }
    }

    /** The entry; this builder must not be used after (its map is handed over, not copied). */
    DedupEntry build() {
      return new DedupEntry(floor, java.util.Collections.unmodifiableNavigableMap(answers));
    }
  }

  public ClientSession toProto() {
    ClientSession.Builder b = ClientSession.newBuilder().setFloor(floor);
    answers.forEach((seq, r) -> b.addAnswers(SessionAnswer.newBuilder().setSeq(seq).setResponse(r)));
    return b.build();
  }

  public static DedupEntry fromProto(ClientSession s) {
    TreeMap<Long, WriteResponse> answers = new TreeMap<>();
    for (SessionAnswer a : s.getAnswersList()) {
      answers.put(a.getSeq(), a.getResponse());
    }
    return new DedupEntry(s.getFloor(), answers);
  }

  /**
   * {@code toProto().toByteArray()}, written straight from the map: the apply thread encodes every
   * touched session once per apply call, and building the message first cost as much as the rest of
   * the de-duplication.
   */
  public byte[] encode() {
    int size = floor == 0 ? 0 : CodedOutputStream.computeUInt64Size(1, floor);
    int[] answerSizes = new int[answers.size()];
    int i = 0;
    for (Map.Entry<Long, WriteResponse> a : answers.entrySet()) {
      int n = (a.getKey() == 0 ? 0 : CodedOutputStream.computeUInt64Size(1, a.getKey()))
          + CodedOutputStream.computeMessageSize(2, a.getValue());
      answerSizes[i++] = n;
      size += CodedOutputStream.computeTagSize(2) + CodedOutputStream.computeUInt32SizeNoTag(n) + n;
    }
    byte[] out = new byte[size];
    CodedOutputStream cos = CodedOutputStream.newInstance(out);
    try {
      if (floor != 0) {
        cos.writeUInt64(1, floor);
      }
      i = 0;
      for (Map.Entry<Long, WriteResponse> a : answers.entrySet()) {
        cos.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        cos.writeUInt32NoTag(answerSizes[i++]);
        if (a.getKey() != 0) {
          cos.writeUInt64(1, a.getKey());
        }
        cos.writeMessage(2, a.getValue());
      }
      cos.checkNoSpaceLeft();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("encoding a de-duplication entry of " + answers.size() + " answers", e);
    }
    return out;
  }

  public static DedupEntry decode(byte[] bytes) throws InvalidProtocolBufferException {
    return fromProto(ClientSession.parseFrom(bytes));
  }
}
