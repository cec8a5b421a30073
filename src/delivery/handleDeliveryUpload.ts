/**
 * `POST /datasets/{resourceCode}/deliveries`: file delivery (R5 "file upload") of CSV or
 * NDJSON, streamed into deliverFile. The server's router resolves the dataset, authenticates
 * and authorizes the caller (only the source department delivers), then calls this handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DataPads } from '../audit/auditKeys';
import type { Sql } from '../db/createSql';
import { deliverFile, type DeliveryChannel, type DeliveryMeta, type DeliveryTarget } from './deliverRows';

export interface DeliveryUploadContext {
  sql: Sql;
  target: DeliveryTarget;
  meta: Omit<DeliveryMeta, 'channel'>;
  limits: { maxReportedProblems: number; maxUploadBytes: number };
  /** See DeliveryOptions.rowAudit. */
  rowAudit?: DataPads | null;
}

/** Media types accepted, and the delivery channel each one means. */
export const UPLOAD_MEDIA_TYPES: Readonly<Record<string, DeliveryChannel>> = Object.freeze({
  'text/csv': 'CSV',
  'application/x-ndjson': 'NDJSON',
  'application/jsonl': 'NDJSON',
});

type UploadErrorCode = 'BAD_USER_INPUT' | 'UNSUPPORTED_MEDIA_TYPE' | 'PAYLOAD_TOO_LARGE';

/**
 * Handles one upload and always answers it (JSON):
 * - 201 with the DeliveryResult when ACCEPTED, 422 with it (problems listed) when REJECTED;
 * - 415 UNSUPPORTED_MEDIA_TYPE for another media type, a charset other than UTF-8 or a
 *   compressed body; 413 PAYLOAD_TOO_LARGE when Content-Length exceeds `maxUploadBytes`
 *   (an upload without Content-Length that grows too large is REJECTED, 422);
 * - error bodies are `{ "error": { "code", "message" } }`.
 * When the body was not read to its end the connection is closed after the reply.
 * Rejects, without having replied, on unexpected errors (database down…): the caller masks them.
 */
export async function handleDeliveryUpload(req: IncomingMessage, res: ServerResponse, ctx: DeliveryUploadContext): Promise<void> {
  const [mediaType, ...params] = (req.headers['content-type'] ?? '').split(';').map((s) => s.trim().toLowerCase());
  const channel = UPLOAD_MEDIA_TYPES[mediaType];
  const accepted = Object.keys(UPLOAD_MEDIA_TYPES).join(', ');
  if (channel === undefined) {
    return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `upload a file as one of: ${accepted} (UTF-8)`);
  }
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'only UTF-8 text is accepted; save the file as UTF-8');
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'compressed uploads are not accepted; send the file uncompressed');
  }
  const length = req.headers['content-length'];
  if (length !== undefined) {
    const n = Number(length);
    if (!Number.isSafeInteger(n) || n < 0) return sendError(res, 400, 'BAD_USER_INPUT', 'invalid Content-Length');
    if (n > ctx.limits.maxUploadBytes) {
      return sendError(res, 413, 'PAYLOAD_TOO_LARGE', `upload exceeds ${ctx.limits.maxUploadBytes} bytes`);
    }
  }
  const result = await deliverFile(ctx.sql, ctx.target, { ...ctx.meta, channel }, req, {
    maxReportedProblems: ctx.limits.maxReportedProblems,
    rowAudit: ctx.rowAudit,
    maxBytes: ctx.limits.maxUploadBytes,
  });
  sendJson(res, result.status === 'ACCEPTED' ? 201 : 422, result);
}

function sendError(res: ServerResponse, status: number, code: UploadErrorCode, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  if (!res.req.complete) {
    // The rest of the body is not wanted: close the connection after the answer, and keep
    // reading (discarding) until then, so the client is not reset before it reads the answer.
    res.setHeader('Connection', 'close');
    res.req.resume();
  }
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
