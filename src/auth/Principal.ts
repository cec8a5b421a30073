/** Who asks. Built from a verified token (identity issue) or, in development mode only, from headers. */
export type Role = 'consumer' | 'source_approver' | 'catalog_editor' | 'authority' | 'sync_job';
export const ROLES: readonly Role[] = ['consumer', 'source_approver', 'catalog_editor', 'authority', 'sync_job'];

export interface Purpose {
  /** Purpose code, e.g. `business-licence-check`. */
  code: string;
  text?: string;
}

export interface Principal {
  /** Department code of the calling agency (a known department). */
  agency: string;
  /** The person or system acting (token subject). */
  subject: string;
  roles: readonly Role[];
  /** How the identity was established. `development` = unauthenticated dev-mode headers. */
  via: 'token' | 'development';
}

export function hasRole(p: Principal | null, role: Role): boolean {
  return !!p && p.roles.includes(role);
}
