/**
 * NDJSON delivery files: one JSON object per line keyed by GraphQL field names, UTF-8, LF or
 * CRLF line ends; blank lines are ignored. Values follow validateRecord (strings read like CSV
 * text, numbers, booleans, null).
 */
import type { Readable } from 'node:stream';
import { createChunkConsumer, MAX_RECORD_SIZE, readThrough, type RowSink, type UploadReadResult } from './readUpload';
import type { RowValidator } from './validateRow';

/**
 * Reads an NDJSON upload (one JSON object per line, UTF-8; blank lines ignored). A line that
 * is not a JSON object is a problem of that row; reading continues.
 */
export async function readNdjsonUpload(
  source: Readable,
  validator: RowValidator,
  sink: RowSink,
  maxBytes: number,
): Promise<UploadReadResult> {
  let row = 0;
  let line = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skippingLongLine = false;

  const handleLine = (bytes: Buffer): void => {
    line++;
    let text = bytes.toString('utf8');
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim().length === 0) return;
    row++;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      // V8's message quotes the input, so it is not passed on.
      sink.reject([{ row, line, reason: 'line is not valid JSON' }]);
      return;
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      sink.reject([{ row, line, reason: 'line is not a JSON object' }]);
      return;
    }
    const result = validator.validateRecord(record as Record<string, unknown>, row);
    if (result.ok) sink.accept(result.values, row, line);
    else sink.reject(result.problems.map((p) => ({ ...p, line })));
  };

  const consume = (chunk: Buffer): void => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      if (skippingLongLine) {
        skippingLongLine = false;
        line++;
      } else if (pending.length > 0) {
        pending.push(chunk.subarray(start, nl));
        const whole = Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        handleLine(withoutCr(whole));
      } else {
        handleLine(withoutCr(chunk.subarray(start, nl)));
      }
      start = nl + 1;
    }
    if (start < chunk.length && !skippingLongLine) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_RECORD_SIZE) {
        row++;
        sink.reject([{ row, line: line + 1, reason: `line is longer than ${MAX_RECORD_SIZE} bytes` }]);
        pending = [];
        pendingBytes = 0;
        skippingLongLine = true;
      }
    }
  };

  const end = (): void => {
    if (pending.length > 0 && !skippingLongLine) handleLine(withoutCr(Buffer.concat(pending)));
    pending = [];
  };
  return readThrough(source, maxBytes, sink, createChunkConsumer(sink, consume, end), () => row);
}

/** A line without its trailing carriage return (CRLF files). */
function withoutCr(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}
