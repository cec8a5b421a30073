/**
 * CSV delivery files: RFC 4180 (comma, double quotes doubled inside quoted values, LF or CRLF
 * line ends), UTF-8 with or without BOM. The first row is the header of GraphQL field names;
 * blank lines are skipped; an empty cell is null.
 *
 * Speed: csv-parse's byte-by-byte state machine costs about 10 µs for a typical registry row,
 * half of the delivery budget (R5 benchmark: 1,000,000 rows at ≥ 50,000 rows/s). A line that
 * contains no double quote has, by RFC 4180 §2, exactly its comma-separated text as fields, so
 * such lines are split directly (about 2 µs); every line with a quote (and the lines a quoted
 * value spans) goes to csv-parse, so quoting, escaping and syntax errors are csv-parse's; rows
 * keep their file order. Record boundaries are found by quote parity: a record that has an
 * odd number of quotes so far continues on the next line.
 */
import type { Readable } from 'node:stream';
import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import type { CsvLayout, RowValidator } from './validateRow';
import { createChunkConsumer, MAX_RECORD_SIZE, readThrough, StopReading, type RowSink, type UploadReadResult } from './readUpload';

/** Quoted records go to csv-parse in blocks of about this many characters or rows waiting. */
const BLOCK_CHARS = 256 * 1024;
const QUEUE_ROWS = 10_000;

/** csv-parse error codes (without their CSV_ prefix) → reasons; its messages quote the data. */
const CSV_REASONS: Record<string, string> = {
  QUOTE_NOT_CLOSED: 'a quoted value is not closed',
  INVALID_CLOSING_QUOTE: 'a closing quote must be followed by a comma or the end of the line',
  INVALID_OPENING_QUOTE: 'a quote appears inside an unquoted value (quote the whole value and double the quote)',
  NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote must be followed by a comma or the end of the line',
  MAX_RECORD_SIZE: `a row is longer than ${MAX_RECORD_SIZE} characters`,
};

/**
 * Reads a CSV upload into the sink. A CSV syntax error (or a line longer than
 * MAX_RECORD_SIZE) is reported once, with its line, and ends reading: what follows cannot be
 * trusted. `line` of a row problem is the physical line where the row starts.
 */
export async function readCsvUpload(
  source: Readable,
  validator: RowValidator,
  sink: RowSink,
  maxBytes: number,
): Promise<UploadReadResult> {
  const reader = new CsvRowReader(validator, sink);
  const consumer = createChunkConsumer(
    sink,
    (chunk) => reader.push(chunk),
    () => reader.end(),
  );
  return readThrough(source, maxBytes, sink, consumer, () => reader.rows);
}

/** A row in file order: split cells, or null for the next record csv-parse returns from the block. */
interface QueuedRow {
  cells: string[] | null;
  line: number;
}

class CsvRowReader {
  rows = 0;
  private layout: CsvLayout | null = null;
  /** Bytes after the last line end seen. */
  private carry: Buffer | null = null;
  /** Line number of the next line. */
  private line = 1;
  private started = false;
  /** Lines with quotes, for csv-parse: one record each segment, as `segments` says. */
  private block = '';
  private segments: { line: number; lines: number }[] = [];
  /** The segment being read ends inside a quoted value (odd number of quotes so far). */
  private openQuote = false;
  private segmentLine = 0;
  private segmentLines = 0;
  /** Rows waiting for the block to be parsed, so rows stay in file order. */
  private queue: QueuedRow[] = [];

  constructor(
    private readonly validator: RowValidator,
    private readonly sink: RowSink,
  ) {}

  push(chunk: Buffer): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const last = data.lastIndexOf(0x0a);
    if (last === -1) {
      this.carry = Buffer.from(data);
      this.assertCarrySize();
      return;
    }
    this.carry = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : null;
    this.assertCarrySize();
    // Cut at a line end, so no UTF-8 sequence is split.
    this.scan(data.toString('utf8', 0, last + 1));
  }

  end(): void {
    if (this.carry) {
      // The last line has no line end.
      this.scan(`${this.carry.toString('utf8')}\n`);
      this.carry = null;
    }
    // An unclosed quote goes to csv-parse too, which reports it.
    if (this.openQuote) this.endSegment();
    this.flush();
  }

  /** `text` holds whole lines and ends with a line feed. */
  private scan(text: string): void {
    let pos = 0;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) pos = 1;
    }
    let quote = text.indexOf('"', pos);
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      if (this.openQuote) {
        this.appendToBlock(text, pos, nl);
        this.segmentLines++;
        if (countQuotes(text, pos, nl) % 2 === 1) this.endSegment();
      } else {
        if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
        if (quote === -1 || quote > nl) {
          const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
          const cells = text.slice(pos, end).split(',');
          if (this.queue.length > 0) this.queue.push({ cells, line: this.line });
          else this.record(cells, this.line);
        } else {
          this.segmentLine = this.line;
          this.segmentLines = 1;
          this.openQuote = true;
          this.appendToBlock(text, pos, nl);
          if (countQuotes(text, quote, nl) % 2 === 0) this.endSegment();
        }
      }
      this.line++;
      pos = nl + 1;
    }
    if (!this.openQuote && (this.block.length >= BLOCK_CHARS || this.queue.length >= QUEUE_ROWS)) this.flush();
  }

  private appendToBlock(text: string, from: number, nl: number): void {
    this.block += text.slice(from, nl + 1);
    if (this.openQuote && this.block.length > MAX_RECORD_SIZE + BLOCK_CHARS) {
      throw new StopReading({
        row: 0,
        line: this.segmentLine,
        reason: `not valid CSV: a quoted value is not closed within ${MAX_RECORD_SIZE} characters`,
      });
    }
  }

  private endSegment(): void {
    this.openQuote = false;
    this.segments.push({ line: this.segmentLine, lines: this.segmentLines });
    this.queue.push({ cells: null, line: this.segmentLine });
  }

  /** Parses the block and reads the queued rows in order. */
  private flush(): void {
    if (this.queue.length === 0) return;
    let records: string[][] = [];
    if (this.block.length > 0) {
      try {
        records = parseCsv(this.block, { relax_column_count: true, record_delimiter: ['\r\n', '\n'], max_record_size: MAX_RECORD_SIZE });
      } catch (err) {
        if (!(err instanceof CsvError)) throw err;
        // csv-parse 7 names one code without its CSV_ prefix (INVALID_OPENING_QUOTE).
        const code = String(err.code).replace(/^CSV_/, '');
        const lines = (err as { lines?: unknown }).lines;
        // An unclosed quote is reported where its row starts, anything else where csv-parse stopped.
        const line = code === 'QUOTE_NOT_CLOSED' ? this.segments[this.segments.length - 1].line : this.fileLine(lines);
        throw new StopReading({ row: 0, line, reason: `not valid CSV: ${CSV_REASONS[code] ?? code}` });
      }
    }
    if (records.length !== this.segments.length) {
      // Each segment is one record by quote parity; anything else is malformed quoting.
      throw new StopReading({ row: 0, line: this.segments[0].line, reason: 'not valid CSV: unbalanced quotes' });
    }
    const queue = this.queue;
    this.queue = [];
    this.block = '';
    this.segments = [];
    let next = 0;
    for (const entry of queue) this.record(entry.cells ?? records[next++], entry.line);
  }

  /** The file line of a line number counted within the block. */
  private fileLine(blockLine: unknown): number {
    let seen = 0;
    if (typeof blockLine === 'number') {
      for (const s of this.segments) {
        if (blockLine <= seen + s.lines) return s.line + Math.max(blockLine - seen - 1, 0);
        seen += s.lines;
      }
    }
    return this.segments[0].line;
  }

  private record(cells: string[], line: number): void {
    if (cells.length === 1 && cells[0].trim().length === 0) return;
    if (this.layout === null) {
      this.layout = this.validator.bindCsvHeader(cells);
      if (this.layout.problems.length > 0) this.sink.reject(this.layout.problems);
      return;
    }
    const row = ++this.rows;
    const result = this.layout.validateCells(cells, row);
    if (result.ok) this.sink.accept(result.values, row, line);
    else this.sink.reject(result.problems.map((p) => ({ ...p, line })));
  }

  private assertCarrySize(): void {
    if (this.carry && this.carry.length > MAX_RECORD_SIZE) {
      throw new StopReading({ row: 0, line: this.line, reason: `a line is longer than ${MAX_RECORD_SIZE} bytes` });
    }
  }
}

function countQuotes(text: string, from: number, to: number): number {
  let n = 0;
  for (let at = text.indexOf('"', from); at !== -1 && at < to; at = text.indexOf('"', at + 1)) n++;
  return n;
}
