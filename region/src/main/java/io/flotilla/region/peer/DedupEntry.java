package io.flotilla.region.peer;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.flotilla.engine.proto.ClientSession;
import io.flotilla.engine.proto.SessionAnswer;
import io.flotilla.engine.proto.WriteResponse;
import java.util.Arrays;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * What a region remembers of one client's writes: the answers of the seqs at or above {@code floor}
 * that it applied. A retried write gets its stored answer instead of being applied twice; a write
 * below the floor is stale (its answer was forgotten because the client said it no longer waits
 * for it). Immutable.
 *
 * <p>NB: answers are two parallel arrays sorted by seq, not a map. The apply thread copies a
 * client's entry into a {@link Builder} once per apply call per region; with many regions and a
 * client whose oldest pending write holds every region's floor down, a tree copy per call was the
 * largest single cost of a write (64 regions: 6% of the poller). Seqs arrive nearly in order, so
 * an add is almost always an append.
 */
public final class DedupEntry {
  /** Answers kept per client at most, whatever the client says: bounds a misbehaving client. */
  static final int MAX_ANSWERS = 4096;

  private static final long[] NO_SEQS = new long[0];
  private static final WriteResponse[] NO_RESPONSES = new WriteResponse[0];

  /** A client the region has not applied a write of yet. */
  public static final DedupEntry EMPTY = new DedupEntry(0, NO_SEQS, NO_RESPONSES);

  private final long floor;
  private final long[] seqs;
  private final WriteResponse[] responses;

  /** {@code seqs} strictly increasing, each at or above {@code floor}; the arrays are taken, not copied. */
  private DedupEntry(long floor, long[] seqs, WriteResponse[] responses) {
    this.floor = floor;
    this.seqs = seqs;
    this.responses = responses;
  }

  /** Only {@code seq}'s answer, everything below it forgotten (a client with one write at a time). */
  public static DedupEntry single(long seq, WriteResponse response) {
    return new DedupEntry(seq, new long[] {seq}, new WriteResponse[] {response});
  }

  public long floor() {
    return floor;
  }

  public WriteResponse answer(long seq) {
    int i = Arrays.binarySearch(seqs, seq);
    return i >= 0 ? responses[i] : null;
  }

  public int answerCount() {
    return seqs.length;
  }

  /** The answers by seq, a copy (for logs and tests). */
  public NavigableMap<Long, WriteResponse> answers() {
    TreeMap<Long, WriteResponse> m = new TreeMap<>();
    for (int i = 0; i < seqs.length; i++) {
      m.put(seqs[i], responses[i]);
    }
    return m;
  }

  /**
   * After applying {@code seq} with {@code response}, with the client saying {@code minPending}
   * is the smallest seq it still waits for (0: {@code seq}).
   */
  public DedupEntry with(long seq, WriteResponse response, long minPending) {
    Builder b = toBuilder();
    b.add(seq, response, minPending);
    return b.build();
  }

  /** A mutable copy to apply several writes to, then {@link Builder#build} once. */
  Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The same rules as {@link #with}, applied in place: the apply thread records many writes of one
   * client in one apply call (an append, mostly), and builds (and writes) the entry once per call.
   * One thread.
   */
  static final class Builder {
    private long floor;
    private long[] seqs;
    private WriteResponse[] responses;
    /** The live answers are [start, end). */
    private int start;
    private int end;

    private Builder(DedupEntry e) {
      this.floor = e.floor;
      int n = e.seqs.length;
      int capacity = Math.max(8, n + n / 2);
      this.seqs = Arrays.copyOf(e.seqs, capacity);
      this.responses = Arrays.copyOf(e.responses, capacity);
      this.end = n;
    }

    WriteResponse answer(long seq) {
      int i = Arrays.binarySearch(seqs, start, end, seq);
      return i >= 0 ? responses[i] : null;
    }

    long floor() {
      return floor;
    }

    /** See {@link DedupEntry#with}. */
    void add(long seq, WriteResponse response, long minPending) {
      floor = Math.max(floor, minPending == 0 ? seq : Math.min(minPending, seq));
      while (start < end && seqs[start] < floor) {
        responses[start++] = null;
      }
      if (start == end || seq > seqs[end - 1]) {
        insertAt(end, seq, response);
      } else {
        int i = Arrays.binarySearch(seqs, start, end, seq);
        if (i >= 0) {
          responses[i] = response;
        } else {
          insertAt(-i - 1, seq, response);
        }
      }
      while (end - start > MAX_ANSWERS) {
        responses[start++] = null;
        floor = seqs[start];
      }
    }

    private void insertAt(int at, long seq, WriteResponse response) {
      if (end == seqs.length) {
        // Make room: close the gap at the front first, grow only if the live part fills the array.
        int live = end - start;
        int capacity = live * 2 >= seqs.length ? seqs.length * 2 : seqs.length;
        long[] s = new long[capacity];
        WriteResponse[] r = new WriteResponse[capacity];
        System.arraycopy(seqs, start, s, 0, live);
        System.arraycopy(responses, start, r, 0, live);
        at -= start;
        seqs = s;
        responses = r;
        start = 0;
        end = live;
      }
      System.arraycopy(seqs, at, seqs, at + 1, end - at);
      System.arraycopy(responses, at, responses, at + 1, end - at);
      seqs[at] = seq;
      responses[at] = response;
      end++;
    }

    DedupEntry build() {
      return new DedupEntry(floor, Arrays.copyOfRange(seqs, start, end), Arrays.copyOfRange(responses, start, end));
    }
  }

  public ClientSession toProto() {
    ClientSession.Builder b = ClientSession.newBuilder().setFloor(floor);
    for (int i = 0; i < seqs.length; i++) {
      b.addAnswers(SessionAnswer.newBuilder().setSeq(seqs[i]).setResponse(responses[i]));
    }
    return b.build();
  }

  public static DedupEntry fromProto(ClientSession s) {
    TreeMap<Long, WriteResponse> answers = new TreeMap<>();
    for (SessionAnswer a : s.getAnswersList()) {
      answers.put(a.getSeq(), a.getResponse());
    }
    long[] seqs = new long[answers.size()];
    WriteResponse[] responses = new WriteResponse[answers.size()];
    int i = 0;
    for (var e : answers.entrySet()) {
      seqs[i] = e.getKey();
      responses[i++] = e.getValue();
    }
    return new DedupEntry(s.getFloor(), seqs, responses);
  }

  /**
   * {@code toProto().toByteArray()}, written straight from the arrays: the apply thread encodes every
   * touched session once per apply call, and building the message first cost as much as the rest of
   * the de-duplication.
   */
  public byte[] encode() {
    int size = floor == 0 ? 0 : CodedOutputStream.computeUInt64Size(1, floor);
    int[] answerSizes = new int[seqs.length];
    for (int i = 0; i < seqs.length; i++) {
      int n = (seqs[i] == 0 ? 0 : CodedOutputStream.computeUInt64Size(1, seqs[i]))
          + CodedOutputStream.computeMessageSize(2, responses[i]);
      answerSizes[i] = n;
      size += CodedOutputStream.computeTagSize(2) + CodedOutputStream.computeUInt32SizeNoTag(n) + n;
    }
    byte[] out = new byte[size];
    CodedOutputStream cos = CodedOutputStream.newInstance(out);
    try {
      if (floor != 0) {
        cos.writeUInt64(1, floor);
      }
      for (int i = 0; i < seqs.length; i++) {
        cos.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        cos.writeUInt32NoTag(answerSizes[i]);
        if (seqs[i] != 0) {
          cos.writeUInt64(1, seqs[i]);
        }
        cos.writeMessage(2, responses[i]);
      }
      cos.checkNoSpaceLeft();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("encoding a de-duplication entry of " + seqs.length + " answers", e);
    }
    return out;
  }

  public static DedupEntry decode(byte[] bytes) throws InvalidProtocolBufferException {
    return fromProto(ClientSession.parseFrom(bytes));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DedupEntry d && d.floor == floor && Arrays.equals(d.seqs, seqs)
        && Arrays.equals(d.responses, responses);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Long.hashCode(floor) + Arrays.hashCode(seqs)) + Arrays.hashCode(responses);
  }

  @Override
  public String toString() {
    return "DedupEntry[floor=" + floor + " answers=" + seqs.length
        + (seqs.length == 0 ? "" : " seqs " + seqs[0] + ".." + seqs[seqs.length - 1]) + "]";
  }
}
