import { hasRole, type Role } from '../../auth/Principal';
import { actsAsAuthority, isAuthority, type Catalog } from '../../catalog/Catalog';
import { ForbiddenError, UnauthenticatedError } from '../../errors';
import type { RequestContext } from '../../server/RequestContext';

/** Who acts in a mutation or a scoped query: the agency and the person or system within it. */
export interface Actor {
  agency: string;
  subject: string;
}

/**
 * The caller as an actor, optionally needing a role.
 * @throws UnauthenticatedError without identity; ForbiddenError without the role (naming `what`).
 */
export function actorOf(ctx: RequestContext, role?: Role, what = 'this operation'): Actor {
  if (!ctx.principal) throw new UnauthenticatedError(`${what} needs an identified caller`);
  if (role && !hasRole(ctx.principal, role)) throw new ForbiddenError(`${what} needs the ${role} role`);
  return { agency: ctx.principal.agency, subject: ctx.principal.subject };
}

/** The published catalog this process serves. */
export function catalogOf(ctx: RequestContext): Catalog {
  return ctx.services.catalog.current()!.catalog;
}

/**
 * The caller as the data authority: its department with the authority role.
 * @throws UnauthenticatedError without identity; ForbiddenError (`what` needs the role; else `refusal`).
 */
export function authorityOf(ctx: RequestContext, refusal: string, what = 'this operation'): Actor {
  const a = actorOf(ctx, 'authority', what);
  if (!isAuthority(catalogOf(ctx), a.agency)) throw new ForbiddenError(refusal);
  return a;
}

/** Whether the caller sees everything as the data authority (Catalog.actsAsAuthority). */
export function callerActsAsAuthority(ctx: RequestContext): boolean {
  return !!ctx.principal && actsAsAuthority(catalogOf(ctx), ctx.principal);
}
