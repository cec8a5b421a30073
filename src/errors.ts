/**
 * The public error contract: every error a client sees carries one of these codes in
 * `extensions.code`. Anything else is masked as INTERNAL_SERVER_ERROR with an errorId that
 * finds the full entry in the log (src/server/formatError.ts).
 */
import { GraphQLError, type GraphQLErrorOptions } from 'graphql';

export enum GatewayErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  RATE_LIMITED = 'RATE_LIMITED',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

export class GatewayError extends GraphQLError {
  constructor(
    message: string,
    readonly code: GatewayErrorCode,
    options?: GraphQLErrorOptions & { status?: number },
  ) {
    super(message, {
      ...options,
      extensions: { ...options?.extensions, code, ...(options?.status ? { http: { status: options.status } } : {}) },
    });
    this.name = new.target.name;
  }
}

export class UnauthenticatedError extends GatewayError {
  constructor(message: string, options?: GraphQLErrorOptions) {
    super(message, GatewayErrorCode.UNAUTHENTICATED, { ...options, status: 401 });
  }
}
export class ForbiddenError extends GatewayError {
  constructor(message: string, options?: GraphQLErrorOptions) {
    super(message, GatewayErrorCode.FORBIDDEN, options);
  }
}
export class UserInputError extends GatewayError {
  constructor(message: string, options?: GraphQLErrorOptions) {
    super(message, GatewayErrorCode.BAD_USER_INPUT, options);
  }
}
export class NotFoundError extends GatewayError {
  constructor(message: string, options?: GraphQLErrorOptions) {
    super(message, GatewayErrorCode.NOT_FOUND, options);
  }
}
export class ConflictError extends GatewayError {
  constructor(message: string, options?: GraphQLErrorOptions) {
    super(message, GatewayErrorCode.CONFLICT, options);
  }
}
