/**
 * Appends the access record (使用记录, R7) of every GraphQL operation of an identified caller —
 * successful, partly or wholly denied, or failed — before the response leaves. When the record
 * cannot be written, the caller gets an error instead of the data (503 SERVICE_UNAVAILABLE):
 * no read goes unrecorded. A mutation has committed by then; its 503 says so (`mutationApplied`),
 * so the caller checks its effect instead of repeating it.
 *
 * The gateway's HTTP handler gives the request a `recordWrite` slot before running the operation:
 * the record's write then starts here and the handler waits for it once Apollo has serialized the
 * response, and sends the response only if it succeeded. Meanwhile the result's objects (a page's
 * hundreds of rows) are already garbage instead of outliving young-generation collections while
 * the record's batch commits, and the serialization overlaps the write. Without the handler's
 * slot the plugin waits for the record itself.
 */
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { GatewayErrorCode } from '../errors';
import type { AccessRecordInput } from '../audit/AccessRecord';
import type { RequestContext } from './RequestContext';
import { newErrorId } from './formatError';

/** The variables as hashed: JSON with every object's keys sorted (UTF-16 code units). */
export function canonicalVariables(v: unknown): string {
  if (v === undefined) return '';
  // Variables of scalars whose keys are in order already (the usual `{"uscc": "…"}`): the same
  // text without a replacer, which keeps V8's fast serializer (~1 µs instead of ~5).
  if (flatAndSorted(v)) return JSON.stringify(v);
  return JSON.stringify(v, sortKeys);
}

const sortKeys = (_k: string, x: unknown): unknown =>
  x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x;

/**
 * A plain object of non-object values whose keys JSON.stringify would write in sorted order:
 * sorting them (Object.fromEntries of the sorted entries, which puts integer-like keys first as
 * any object does) would give the same object back.
 */
function flatAndSorted(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  let prev: string | undefined;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === 'object') return false;
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
  }
  return true;
}

/** The access record of the request `ctx` (an identified caller) for one operation. */
export function accessRecordOf(
  ctx: RequestContext,
  op: Pick<AccessRecordInput, 'operationType' | 'operationName' | 'operationHash' | 'errorCodes'>,
): AccessRecordInput {
  const p = ctx.principal!;
  return ctx.audit.toRecord({
    at: new Date(),
    requestId: ctx.requestId,
    agency: p.agency,
    subject: p.subject,
    purposeCode: ctx.purpose?.code ?? null,
    purposeText: ctx.purpose?.text ?? null,
    operationType: op.operationType,
    operationName: op.operationName,
    operationHash: op.operationHash,
    errorCodes: op.errorCodes,
  });
}

export function accessRecordPlugin(): ApolloServerPlugin<RequestContext> {
  const listener: GraphQLRequestListener<RequestContext> = {
    async willSendResponse({ contextValue: ctx, request, operation, response }) {
      if (!ctx.principal) return; // development mode without identity: nothing was readable
      const body = response.body;
      const result = body.kind === 'single' ? body.singleResult : body.initialResult;
      const errors = result.errors;
      const errorCodes = errors?.length ? [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))].sort() : [];
      const { auditKeys, accessRecords } = ctx.services;
      const record = accessRecordOf(ctx, {
        operationType: operation?.operation ?? null,
        operationName: operation?.name?.value ?? request.operationName ?? null,
        operationHash: auditKeys.operationHash(`${request.query ?? ''}\n${request.operationName ?? ''}\n${canonicalVariables(request.variables)}`),
        errorCodes,
      });
      // A mutation's own transaction has committed by now (each keeps its actor and time in
      // its own tables): the caller must know the change may stand, or a retry would repeat it.
      const changed = operation?.operation === 'mutation' && Object.values(result.data ?? {}).some((v) => v != null);
      let written: Promise<void>;
      try {
        written = accessRecords.append(record);
      } catch (err) {
        written = Promise.reject(err); // (the writer rejects; a throw is answered the same way)
      }
      const failed = written.then(
        () => null,
        (err: unknown) => recordFailure(ctx, err, changed),
      );
      failed.catch(() => undefined); // awaited below or by the handler; never an unhandled rejection
      const slot = ctx.recordWrite;
      if (slot && !slot.failed) {
        // The HTTP handler waits for it once the response is serialized (see above).
        slot.failed = failed;
        return;
      }
      const failure = await failed;
      if (failure) {
        response.body = { kind: 'single', singleResult: failure.result };
        response.http.status = failure.status;
      }
    },
  };
  return { requestDidStart: async () => listener };
}

/** The error answer given instead of the response whose access record could not be written (logged). */
function recordFailure(ctx: RequestContext, err: unknown, changed: boolean) {
  const errorId = newErrorId();
  ctx.log.error({ err, errorId, mutationApplied: changed }, 'access record not written: the response is withheld');
  const result = {
    errors: [
      {
        message: changed
          ? `the change requested by this mutation was made, but its access record could not be written, so its result is withheld; do not repeat the mutation before checking its effect (quote errorId ${errorId} to the platform operators)`
          : `the access record of this operation could not be written, so no data is returned; try again later (errorId ${errorId})`,
        extensions: { code: GatewayErrorCode.SERVICE_UNAVAILABLE, errorId, ...(changed ? { mutationApplied: true } : {}) },
      },
    ],
  };
  // As Apollo writes a result (prettyJSONStringify): JSON and a newline.
  return { status: 503, result, body: `${JSON.stringify(result)}\n` };
}
