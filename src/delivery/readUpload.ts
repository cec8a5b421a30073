/**
 * What the file readers (readCsvUpload, readNdjsonUpload) share: the sink they feed, and the
 * metered read of the upload body: bytes are counted, hashed (sha256) and checked to be UTF-8
 * as they arrive, within a size limit. Nothing holds more than an input chunk (and one row) at
 * a time; backpressure from the sink (the database) pauses reading.
 */
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { finished, Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RowProblem } from './validateRow';

/** Receives validated rows and problems; `relieve()` waits while the database is behind. */
export interface RowSink {
  accept(values: readonly (string | null)[], row: number, line: number | null): void;
  reject(problems: readonly RowProblem[]): void;
  readonly hasReady: boolean;
  relieve(): Promise<void>;
}

export interface UploadReadResult {
  /** Data rows read (CSV header and blank lines not counted). */
  rowCount: number;
  /** sha256 (hex) of the bytes read. */
  checksum: string;
  bytes: number;
}

/** Longest CSV row or NDJSON line accepted, in bytes or characters (guards memory). */
export const MAX_RECORD_SIZE = 4 * 1024 * 1024;

/** A problem that ends reading (size limit, not UTF-8, CSV syntax): reported, then reading stops. */
export class StopReading extends Error {
  constructor(readonly problem: RowProblem) {
    super(problem.reason);
  }
}

/**
 * Counts, hashes and UTF-8-checks the raw bytes and stops at `maxBytes`. On the size limit it
 * unpipes the source and fails, leaving the rest of the source unread (an HTTP caller then
 * closes the connection).
 */
class UploadMeter extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  /** Set at the size limit: the source is unpiped and left unread. */
  stopped = false;
  private carry: Buffer | null = null;

  constructor(
    private readonly source: Readable,
    private readonly maxBytes: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.stopped) return callback();
    if (this.bytes + chunk.length > this.maxBytes) {
      // Fails the pipeline, so a row cut off by the limit is not read as a short row.
      this.stopped = true;
      this.source.unpipe(this);
      return callback(new StopReading({ row: 0, reason: `upload exceeds ${this.maxBytes} bytes` }));
    }
    const start = this.bytes;
    this.bytes += chunk.length;
    this.hash.update(chunk);
    if (!this.checkUtf8(chunk)) {
      return callback(new StopReading({ row: 0, reason: `the file is not UTF-8 text (bytes ${start}-${this.bytes}); save it as UTF-8` }));
    }
    // Parsing a chunk is synchronous and streams pass chunks on in microtasks: without a turn
    // of the event loop, the COPY of the previous batch would wait for the socket until
    // parsing pauses, and reading and writing would not overlap.
    setImmediate(callback, null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.carry) {
      return callback(new StopReading({ row: 0, reason: 'the file ends inside a UTF-8 character; save it as UTF-8' }));
    }
    callback();
  }

  /** Validates complete UTF-8 sequences, carrying an incomplete trailing one to the next chunk. */
  private checkUtf8(chunk: Buffer): boolean {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    let cut = data.length;
    for (let i = data.length - 1; i >= 0 && i >= data.length - 4; i--) {
      const b = data[i];
      if ((b & 0xc0) === 0x80) continue;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (i + need > data.length) cut = i;
      break;
    }
    this.carry = cut < data.length ? Buffer.from(data.subarray(cut)) : null;
    return isUtf8(data.subarray(0, cut));
  }
}

/**
 * Pipes `source` through the meter into `consumer`, turning a StopReading (size limit, not
 * UTF-8, or thrown by the consumer) into one problem for the sink. Errors of the source
 * (a client that disconnects) and of the sink (the database) reject. Never destroys the source.
 */
export async function readThrough(
  source: Readable,
  maxBytes: number,
  sink: RowSink,
  consumer: Writable,
  rowsSoFar: () => number,
): Promise<UploadReadResult> {
  const meter = new UploadMeter(source, maxBytes);
  const stopWatching = finished(source, { writable: false }, (err) => {
    if (err && !meter.stopped) meter.destroy(err);
  });
  source.pipe(meter);
  try {
    await pipeline(meter, consumer);
  } catch (err) {
    if (!(err instanceof StopReading)) throw err;
    sink.reject([err.problem]);
  } finally {
    stopWatching();
    source.unpipe(meter);
  }
  return { rowCount: rowsSoFar(), checksum: meter.hash.digest('hex'), bytes: meter.bytes };
}

/**
 * A Writable that hands each chunk to `push` and, when the sink has a full batch, waits for the
 * database before taking the next chunk. `push`/`end` may throw StopReading.
 */
export function createChunkConsumer(sink: RowSink, push: (chunk: Buffer) => void, end: () => void): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      try {
        push(chunk);
      } catch (err) {
        return callback(err as Error);
      }
      if (sink.hasReady) sink.relieve().then(() => callback(), callback);
      else callback();
    },
    final(callback) {
      try {
        end();
      } catch (err) {
        return callback(err as Error);
      }
      callback();
    },
  });
}
