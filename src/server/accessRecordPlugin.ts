/**
 * Appends the access record (使用记录, R7) of every GraphQL operation of an identified caller —
 * successful, partly or wholly denied, or failed — before the response leaves. When the record
 * cannot be written, the caller gets an error instead of the data (503 SERVICE_UNAVAILABLE):
 * no read goes unrecorded. A mutation has committed by then; its 503 says so (`mutationApplied`),
 * so the caller checks its effect instead of repeating it.
 */
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { GatewayErrorCode } from '../errors';
import type { AccessRecordInput } from '../audit/AccessRecord';
import type { RequestContext } from './RequestContext';
import { newErrorId } from './formatError';

function canonicalVariables(v: unknown): string {
  if (v === undefined) return '';
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
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
      const errorCodes = [...new Set((result.errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))].sort();
      const { auditKeys, accessRecords } = ctx.services;
      const record = accessRecordOf(ctx, {
        operationType: operation?.operation ?? null,
        operationName: operation?.name?.value ?? request.operationName ?? null,
        operationHash: auditKeys.operationHash(`${request.query ?? ''}\n${request.operationName ?? ''}\n${canonicalVariables(request.variables)}`),
        errorCodes,
      });
      try {
        await accessRecords.append(record);
      } catch (err) {
        const errorId = newErrorId();
        // A mutation's own transaction has committed by now (each keeps its actor and time in
        // its own tables): the caller must know the change may stand, or a retry would repeat it.
        const changed = operation?.operation === 'mutation' && Object.values(result.data ?? {}).some((v) => v != null);
        ctx.log.error({ err, errorId, mutationApplied: changed }, 'access record not written: the response is withheld');
        response.body = {
          kind: 'single',
          singleResult: {
            errors: [
              {
                message: changed
                  ? `the change requested by this mutation was made, but its access record could not be written, so its result is withheld; do not repeat the mutation before checking its effect (quote errorId ${errorId} to the platform operators)`
                  : `the access record of this operation could not be written, so no data is returned; try again later (errorId ${errorId})`,
                extensions: { code: GatewayErrorCode.SERVICE_UNAVAILABLE, errorId, ...(changed ? { mutationApplied: true } : {}) },
              },
            ],
          },
        };
        response.http.status = 503;
      }
    },
  };
  return { requestDidStart: async () => listener };
}
