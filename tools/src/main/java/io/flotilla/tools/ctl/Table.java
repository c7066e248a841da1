package io.flotilla.tools.ctl;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A table for people: a header row and rows of cells, each column as wide as its widest cell,
 * two spaces between columns, no trailing blanks. Columns whose header is in {@code rightAligned}
 * (numbers) are aligned right.
 */
final class Table {
  private final List<String> header;
  private final boolean[] right;
  private final List<List<String>> rows = new ArrayList<>();

  private Table(List<String> header, boolean[] right) {
    this.header = header;
    this.right = right;
  }

  /** A table with these column headers; a header starting with '>' is aligned right (the '>' is dropped). */
  static Table of(String... headers) {
    List<String> h = new ArrayList<>();
    boolean[] right = new boolean[headers.length];
    for (int i = 0; i < headers.length; i++) {
      right[i] = headers[i].startsWith(">");
      h.add(right[i] ? headers[i].substring(1) : headers[i]);
    }
    return new Table(h, right);
  }

  Table row(Object... cells) {
    if (cells.length != header.size()) {
      throw new IllegalStateException("row has " + cells.length + " cells, the table " + header.size() + " columns");
    }
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(c == null ? "" : c.toString());
    }
    rows.add(r);
    return this;
  }

  int size() {
    return rows.size();
  }

  void print(PrintWriter out) {
    int[] width = new int[header.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = header.get(i).length();
      for (List<String> r : rows) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    printRow(out, header, width);
    for (List<String> r : rows) {
      printRow(out, r, width);
    }
    out.flush();
  }

  private void printRow(PrintWriter out, List<String> cells, int[] width) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      String pad = " ".repeat(width[i] - c.length());
      if (i > 0) {
        sb.append("  ");
      }
      sb.append(right[i] ? pad + c : c + pad);
    }
    out.println(sb.toString().stripTrailing());
  }

  /** {@code label: value} lines, the values aligned; for one thing shown in detail. */
  static final class Details {
    private final List<String[]> lines = new ArrayList<>();

    Details add(String label, Object value) {
      lines.add(new String[] {label, value == null ? "" : value.toString()});
      return this;
    }

    void print(PrintWriter out) {
      int w = 0;
      for (String[] l : lines) {
        w = Math.max(w, l[0].length() + 1);
      }
      for (String[] l : lines) {
        out.println((l[0] + ":" + " ".repeat(w - l[0].length() - 1) + "  " + l[1]).stripTrailing());
      }
      out.flush();
    }
  }
}
