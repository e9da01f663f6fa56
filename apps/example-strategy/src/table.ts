/**
 * Plain-text tables for the demo: one renderer, two ways to show it. On a terminal the table is redrawn in place;
 * anywhere else (CI logs, pipes) each refresh is printed as ordinary lines so nothing is lost to escape codes.
 */
export type Row = readonly string[];

export function renderTable(header: Row, rows: readonly Row[]): string[] {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: Row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export interface View {
  /** Shows the latest state; on a terminal it replaces what was shown before. */
  show(lines: readonly string[]): void;
  /** Leaves the last state on screen and prints anything after it normally. */
  done(): void;
}

export function createView(stream: NodeJS.WriteStream = process.stdout): View {
  if (stream.isTTY) return new TerminalView(stream);
  return new LineView(stream);
}

class TerminalView implements View {
  #shown = 0;

  constructor(readonly stream: NodeJS.WriteStream) {}

  show(lines: readonly string[]): void {
    // Move up over what we drew last time, then clear each line as we overwrite it.
    let out = this.#shown > 0 ? `\x1b[${this.#shown}F` : '';
    for (const text of lines) out += `\x1b[2K${text}\n`;
    // If the new frame is shorter, wipe the leftover lines below it.
    for (let i = lines.length; i < this.#shown; i++) out += '\x1b[2K\n';
    if (this.#shown > lines.length) out += `\x1b[${this.#shown - lines.length}F`;
    this.stream.write(out);
    this.#shown = lines.length;
  }

  done(): void {
    this.#shown = 0;
  }
}

class LineView implements View {
  constructor(readonly stream: NodeJS.WriteStream) {}

  show(lines: readonly string[]): void {
    this.stream.write(`${lines.join('\n')}\n\n`);
  }

  done(): void {}
}
