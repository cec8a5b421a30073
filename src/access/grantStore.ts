/**
 * The grants (授权) in force, as the query path needs them: per agency, cached in the process
 * and dropped at once when any process changes a grant (LISTEN/NOTIFY on GRANT_CHANNEL), with
 * a short time-to-live as a backstop for a missed notification. Validity periods are checked
 * on every use, so an expiring grant stops working on time without any notification.
 */
import type { Logger } from 'pino';
import type { Sql } from '../db/createSql';
import type { FilterInput } from '../graphql/compileQuery';

/** NOTIFY channel: payload is the changed grant's agency code. */
export const GRANT_CHANNEL = 'hzgw_grant_changed';

export interface ActiveGrant {
  id: number;
  agency: string;
  datasetCode: string;
  kind: 'READ' | 'VERIFY';
  basis: 'UNCONDITIONAL' | 'ISSUED';
  fields: ReadonlySet<string>;
  clearFields: ReadonlySet<string>;
  purposeCode: string;
  purposeText: string;
  rowFilter: FilterInput | null;
  validFrom: Date;
  validUntil: Date | null;
}

export interface GrantStore {
  /**
   * Every active grant of `agency` not yet expired, as cached: the same array object until a
   * grant of the agency changes or the cache entry ages out (callers memoise on it).
   */
  agencyGrants(agency: string): Promise<readonly ActiveGrant[]>;
  /** VERIFY grants of `agency` for `purposeCode` valid at `at` (R10). */
  verifyGrants(agency: string, purposeCode: string, at?: Date): Promise<ActiveGrant[]>;
  stop(): Promise<void>;
}

interface GrantRow {
  id: number;
  agency: string;
  dataset_code: string;
  kind: 'READ' | 'VERIFY';
  basis: 'UNCONDITIONAL' | 'ISSUED';
  fields: string[];
  clear_fields: string[];
  purpose_code: string;
  purpose_text: string;
  row_filter: FilterInput | null;
  valid_from: number;
  valid_until: number | null;
}

export function isValidAt(g: Pick<ActiveGrant, 'validFrom' | 'validUntil'>, at: Date): boolean {
  return g.validFrom.getTime() <= at.getTime() && (g.validUntil === null || at.getTime() < g.validUntil.getTime());
}

export async function createGrantStore(sql: Sql, log: Logger, opts: { ttlMs?: number } = {}): Promise<GrantStore> {
  const ttlMs = opts.ttlMs ?? 10_000;
  const cache = new Map<string, { at: number; grants: Promise<ActiveGrant[]> }>();

  const load = async (agency: string): Promise<ActiveGrant[]> => {
    const rows = await sql<GrantRow[]>`
      SELECT g.id, a.code AS agency, d.code AS dataset_code, g.kind, g.basis, g.fields, g.clear_fields,
             g.purpose_code, g.purpose_text, g.row_filter,
             (extract(epoch FROM g.valid_from) * 1000)::float8 AS valid_from,
             (extract(epoch FROM g.valid_until) * 1000)::float8 AS valid_until
      FROM access_grant g
      JOIN department a ON a.id = g.agency_id
      JOIN dataset d ON d.id = g.dataset_id
      WHERE a.code = ${agency} AND g.status = 'ACTIVE' AND (g.valid_until IS NULL OR g.valid_until > now())
      ORDER BY g.id`;
    return rows.map((r) => ({
      id: r.id,
      agency: r.agency,
      datasetCode: r.dataset_code,
      kind: r.kind,
      basis: r.basis,
      fields: new Set(r.fields),
      clearFields: new Set(r.clear_fields),
      purposeCode: r.purpose_code,
      purposeText: r.purpose_text,
      rowFilter: r.row_filter,
      validFrom: new Date(r.valid_from),
      validUntil: r.valid_until === null ? null : new Date(r.valid_until),
    }));
  };

  const agencyGrants = (agency: string): Promise<ActiveGrant[]> => {
    const now = Date.now();
    const hit = cache.get(agency);
    if (hit && now - hit.at < ttlMs) return hit.grants;
    const grants = load(agency);
    cache.set(agency, { at: now, grants });
    // A failed load is not cached.
    grants.catch(() => {
      if (cache.get(agency)?.grants === grants) cache.delete(agency);
    });
    return grants;
  };

  const listener = await sql.listen(GRANT_CHANNEL, (agency) => {
    if (agency) cache.delete(agency);
    else cache.clear();
  });
  log.debug('listening for grant changes');

  return {
    agencyGrants,
    async verifyGrants(agency, purposeCode, at = new Date()) {
      const all = await agencyGrants(agency);
      return all.filter((g) => g.kind === 'VERIFY' && g.purposeCode === purposeCode && isValidAt(g, at));
    },
    async stop() {
      await listener.unlisten();
    },
  };
}
