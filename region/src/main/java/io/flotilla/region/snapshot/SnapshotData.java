package io.flotilla.region.snapshot;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.engine.proto.Region;
import io.flotilla.engine.raft.ConfState;
import io.flotilla.engine.raft.SnapshotMetadata;
import io.flotilla.region.peer.DedupEntry;
import io.flotilla.region.storage.Cf;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The descriptor of a region snapshot (the opaque data of a Raft snapshot): where it sits in the
 * log and the membership there (so a store that crashed while applying it can finish the job from
 * this alone), the region meta, its de-duplication table, and where its one file of the region's
 * keys is on this node ({@code sstFile}, {@code sstBytes} long; none when the region holds no keys).
 * The file is the region's SST files of each non-empty column family one after the other, as
 * {@code parts} say (family and length, in {@link Cf} order): raw data, then the transaction
 * families' ranges; a region without transaction data has one part, its {@code data} SST. The file
 * itself never travels in here: it is streamed beside the Raft message, and the receiver points
 * {@code sstFile} at its own copy ({@link #withSstFile}).
 *
 * <p>Layout, big-endian: magic {@code "FLS4"}, index, term, conf state (four lists, a flag), region
 * (length + {@code meta.Region}), dedup count and entries (client, length + {@code
 * kv.ClientSession}), SST file (length + UTF-8 path), SST bytes, part count and parts (family name
 * length + UTF-8, bytes). A {@code "FLS3"} descriptor (an older version's marker) has no parts: its
 * file is one {@code data} SST.
 */
public record SnapshotData(SnapshotMetadata metadata, Region region, Map<Long, DedupEntry> dedup, String sstFile,
    long sstBytes, List<Part> parts) {
  private static final int MAGIC = 0x464c5334; // "FLS4"
  private static final int MAGIC_V3 = 0x464c5333; // "FLS3"

  /** One column family's SST in the snapshot file, {@code bytes} long. */
  public record Part(Cf cf, long bytes) {
    public Part {
      if (bytes <= 0) {
        throw new IllegalArgumentException("part of " + cf + " with " + bytes + " bytes");
      }
    }
  }

  public SnapshotData {
    parts = List.copyOf(parts);
    if (sstBytes < 0 || (sstBytes > 0) == sstFile.isEmpty()) {
      throw new IllegalArgumentException("sstFile '" + sstFile + "' with " + sstBytes + " bytes");
    }
    long sum = 0;
    for (Part p : parts) {
      sum += p.bytes();
    }
    if (sum != sstBytes) {
      throw new IllegalArgumentException("parts " + parts + " add up to " + sum + " bytes, the file has " + sstBytes);
    }
  }

  /** A snapshot whose file (if any) is one {@code data} SST. */
  public SnapshotData(SnapshotMetadata metadata, Region region, Map<Long, DedupEntry> dedup, String sstFile,
      long sstBytes) {
    this(metadata, region, dedup, sstFile, sstBytes, sstBytes > 0 ? List.of(new Part(Cf.DATA, sstBytes)) : List.of());
  }

  /** Whether the region held keys (and so there is an SST file). */
  public boolean hasSst() {
    return sstBytes > 0;
  }

  /** The same snapshot with its SST at {@code file} (the receiver's copy). */
  public SnapshotData withSstFile(String file) {
    return new SnapshotData(metadata, region, dedup, hasSst() ? file : "", sstBytes, parts);
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeLong(metadata.index());
      out.writeLong(metadata.term());
      ConfState cs = metadata.confState();
      for (List<Long> ids : List.of(cs.voters(), cs.learners(), cs.votersOutgoing(), cs.learnersNext())) {
        out.writeInt(ids.size());
        for (long id : ids) {
          out.writeLong(id);
        }
      }
      out.writeBoolean(cs.autoLeave());
      writeBytes(out, region.toByteArray());
      out.writeInt(dedup.size());
      for (Map.Entry<Long, DedupEntry> e : dedup.entrySet()) {
        out.writeLong(e.getKey());
        writeBytes(out, e.getValue().encode());
      }
      writeBytes(out, sstFile.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      out.writeLong(sstBytes);
      out.writeInt(parts.size());
      for (Part p : parts) {
        writeBytes(out, p.cf().familyName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        out.writeLong(p.bytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Whether {@code data} looks like an encoded descriptor (its magic). */
  public static boolean isDescriptor(byte[] data) {
    if (data.length < 4) {
      return false;
    }
    int magic = (data[0] & 0xff) << 24 | (data[1] & 0xff) << 16 | (data[2] & 0xff) << 8 | (data[3] & 0xff);
    return magic == MAGIC || magic == MAGIC_V3;
  }

  public static SnapshotData decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      int magic = in.readInt();
      if (magic != MAGIC && magic != MAGIC_V3) {
        throw new IllegalArgumentException("not a region snapshot descriptor: magic " + Integer.toHexString(magic));
      }
      long index = in.readLong();
      long term = in.readLong();
      List<List<Long>> lists = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        int n = in.readInt();
        List<Long> ids = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
          ids.add(in.readLong());
        }
        lists.add(ids);
      }
      ConfState cs = new ConfState(lists.get(0), lists.get(1), lists.get(2), lists.get(3), in.readBoolean());
      Region region = Region.parseFrom(readBytes(in));
      int n = in.readInt();
      Map<Long, DedupEntry> dedup = new HashMap<>();
      for (int i = 0; i < n; i++) {
        long client = in.readLong();
        dedup.put(client, DedupEntry.decode(readBytes(in)));
      }
      String sstFile = new String(readBytes(in), java.nio.charset.StandardCharsets.UTF_8);
      long sstBytes = in.readLong();
      SnapshotMetadata meta = new SnapshotMetadata(cs, index, term);
      if (magic == MAGIC_V3) {
        return new SnapshotData(meta, region, dedup, sstFile, sstBytes);
      }
      int np = in.readInt();
      List<Part> parts = new ArrayList<>(np);
      for (int i = 0; i < np; i++) {
        String name = new String(readBytes(in), java.nio.charset.StandardCharsets.UTF_8);
        Cf cf = Cf.named(name);
        if (cf == null) {
          throw new IllegalArgumentException("region snapshot has a part of column family '" + name
              + "', unknown to this build");
        }
        parts.add(new Part(cf, in.readLong()));
      }
      return new SnapshotData(meta, region, dedup, sstFile, sstBytes, parts);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("corrupt region snapshot: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated region snapshot (" + data.length + " bytes)", e);
    }
  }

  /** Only the region of an encoded descriptor, without decoding the rest; null if it is none. */
  public static Region peekRegion(byte[] data) {
    if (!isDescriptor(data)) {
      return null;
    }
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      in.readInt();
      in.readLong();
      in.readLong();
      for (int i = 0; i < 4; i++) {
        in.skipNBytes(8L * in.readInt());
      }
      in.readBoolean();
      return Region.parseFrom(readBytes(in));
    } catch (IOException e) {
      return null;
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("negative length " + n);
    }
    byte[] b = in.readNBytes(n);
    if (b.length != n) {
      throw new IOException("expected " + n + " bytes, got " + b.length);
    }
    return b;
  }
}
