import { randomBytes } from 'node:crypto';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { RequestContext } from './RequestContext';

const errorIds = new WeakMap<object, string>();

export function newErrorId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * True for errors whose message is meant for the client: our GatewayErrors, and errors raised
 * before execution (parse, validation, variable coercion), which have no path. Anything a
 * resolver threw that is not a GatewayError is internal (it may quote SQL or values).
 */
function isClientError(error: unknown): boolean {
  const inner = unwrapResolverError(error);
  if (inner instanceof GatewayError) return true;
  return error instanceof GraphQLError && error.path === undefined && error.extensions?.code !== GatewayErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * Logs every internal error in full with the request id and a fresh errorId, before the
 * response is formatted (Apollo calls didEncounterErrors first).
 */
export function errorLoggingPlugin(): ApolloServerPlugin<RequestContext> {
  // One listener object for all requests: it keeps no per-request state.
  const listener: GraphQLRequestListener<RequestContext> = {
    async didEncounterErrors({ errors, contextValue }) {
      for (const e of errors) {
        if (isClientError(e)) continue;
        const inner = unwrapResolverError(e);
        const errorId = newErrorId();
        errorIds.set(e, errorId);
        if (inner && typeof inner === 'object') errorIds.set(inner, errorId);
        contextValue.log.error({ err: inner, errorId, path: e.path }, 'internal error');
      }
    },
  };
  return { requestDidStart: async () => listener };
}

/**
 * Client-facing errors: our GatewayErrors and GraphQL validation errors pass with their code;
 * anything else (database, driver, bug) becomes INTERNAL_SERVER_ERROR with only an errorId,
 * no stack trace and no SQL.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const inner = unwrapResolverError(error);
  if (isClientError(error)) {
    const { extensions, ...rest } = formatted;
    const { stacktrace: _s, http: _h, ...ext } = (extensions ?? {}) as Record<string, unknown>;
    void _s;
    void _h;
    return { ...rest, extensions: ext };
  }
  const errorId = (error && typeof error === 'object' && errorIds.get(error)) || (inner && typeof inner === 'object' && errorIds.get(inner)) || newErrorId();
  return {
    message: `Internal server error; quote errorId ${errorId} to the platform operators`,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: GatewayErrorCode.INTERNAL_SERVER_ERROR, errorId },
  };
}
