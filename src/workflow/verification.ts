/**
 * Verification (核实比对, R10): an agency with a VERIFY grant sends a record's key and the values
 * it believes the record holds; it learns, per claim, MATCH or NO_MATCH — or NOT_FOUND for the
 * record — and never a value. The comparison runs inside PostgreSQL, so NOT_SHARED values do not
 * leave the database even for this.
 *
 * Against enumeration (trying values until one matches), an agency may claim at most
 * `limits.verifyDistinctClaims` different values for one field of one record within
 * `limits.verifyWindowHours`; repeating a claim already made does not count again. Attempts are
 * kept as keyed hashes only (verification_attempt). Every verification is also in the access
 * record: the verified fields appear as `<code>#<field>:verify`.
 */
import type { CatalogDataset, CatalogField } from '../catalog/Catalog';
import { keyFields } from '../catalog/Catalog';
import { PG_TYPES, quoteIdent } from '../db/rowTables';
import { ForbiddenError, GatewayError, GatewayErrorCode, NotFoundError, UnauthenticatedError, UserInputError } from '../errors';
import { auditHashes, filtersCondition, noteAuditHashes, Params, type FilterInput } from '../graphql/compileQuery';
import { columnName, ROWS_SCHEMA, tableName } from '../graphql/naming';
import type { RequestContext } from '../server/RequestContext';
import { AccessAudit } from '../audit/AccessAudit';

export type ClaimResult = 'MATCH' | 'NO_MATCH';

export interface VerificationOutcome {
  /** False: no record with this key (among the rows the grants cover). */
  found: boolean;
  results: { field: string; result: ClaimResult }[];
}

/** Identifiers compare trimmed and upper-case (an ID number's check character `x` = `X`). */
function compared(f: CatalogField, expr: string): string {
  if (f.type !== 'STRING') return expr;
  return f.check === 'ID_NUMBER' || f.check === 'USCC' ? `upper(btrim(${expr}))` : `btrim(${expr})`;
}

function normalisedClaim(f: CatalogField, v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  if (f.type !== 'STRING') return s;
  return f.check === 'ID_NUMBER' || f.check === 'USCC' ? s.trim().toUpperCase() : s.trim();
}

export async function verifyRecord(
  ctx: RequestContext,
  datasetCode: string,
  key: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<VerificationOutcome> {
  const p = ctx.principal;
  if (!p) throw new UnauthenticatedError('verification needs an identified caller');
  const { services } = ctx;
  const catalog = services.catalog.current()!.catalog;
  const ds: CatalogDataset | undefined = catalog.datasets.find((d) => d.code === datasetCode);
  if (!ds) throw new NotFoundError(`no published dataset has resource code ${datasetCode}`);
  const audit = ctx.audit;
  audit.datasets.add(ds.code);
  if (!ctx.purpose) {
    audit.datasetsDenied.add(ds.code);
    throw new ForbiddenError('verification is made for a declared purpose: send the X-Purpose header with the purpose code of your verification grant');
  }
  const keys = keyFields(ds);
  const unknownKey = Object.keys(key).filter((k) => !keys.some((f) => f.name === k));
  const missingKey = keys.filter((f) => key[f.name] === undefined || key[f.name] === null);
  if (unknownKey.length || missingKey.length) {
    throw new UserInputError(`key: give exactly the key field${keys.length > 1 ? 's' : ''} of ${ds.code}: ${keys.map((f) => f.name).join(', ')}`);
  }
  const claimed = Object.keys(claims);
  if (!claimed.length) throw new UserInputError('claims: give at least one field with the value you believe the record holds');
  const fields = claimed.map((n) => {
    const f = ds.fields.find((x) => x.name === n);
    if (!f) throw new UserInputError(`claims: ${ds.code} has no field ${n}`);
    return f;
  });

  // Which grants allow it: the source department verifies its own data; others need VERIFY grants.
  const owner = ds.departmentCode === p.agency;
  const grants = owner ? [] : (await services.grants.verifyGrants(p.agency, ctx.purpose.code)).filter((g) => g.datasetCode === ds.code);
  const uncovered = owner ? [] : fields.filter((f) => !grants.some((g) => g.fields.has(f.name)));
  if (uncovered.length) {
    for (const f of uncovered) audit.fieldsDenied.add(`${AccessAudit.fieldKey(ds.code, f.name)}:verify`);
    throw new ForbiddenError(
      `${uncovered.map((f) => `${ds.typeName}.${f.name} (${f.label})`).join(', ')} not covered by a verification grant of ${p.agency} for purpose "${ctx.purpose.code}": request one with requestShare(kind: VERIFY) from the source department ${ds.departmentCode}`,
    );
  }
  for (const g of grants) if (fields.some((f) => g.fields.has(f.name))) audit.grantIds.add(g.id);

  const keyText = `${ds.code}\u001f${keys.map((f) => String(key[f.name])).join('\u001f')}`;
  const keyHash = services.auditKeys.dataHash(keyText);
  const limits = services.config.limits;
  const claimHashes = fields.map((f) => services.auditKeys.dataHash(`${f.name}\u001f${normalisedClaim(f, claims[f.name])}`));

  const datasetIdRow = await services.sql<{ id: number }[]>`SELECT id FROM dataset WHERE code = ${ds.code}`;
  const datasetId = datasetIdRow[0].id;

  // Rows: for each claimed field, the rows of a grant that covers it (any of them); all claimed
  // fields together. A grant that covers none of the claims widens nothing.
  const params = new Params();
  const table = `${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(tableName(ds))}`;
  const conds = keys.map((f) => `t0.${quoteIdent(columnName(f.name))} = ${params.add(key[f.name], PG_TYPES[f.type])}`);
  if (!owner) {
    for (const f of fields) {
      const covering = grants.filter((g) => g.fields.has(f.name));
      if (covering.some((g) => !g.rowFilter)) continue;
      conds.push(filtersCondition(ds, covering.map((g) => g.rowFilter as FilterInput), 't0', params)!);
    }
  }
  const checks = fields.map((f, i) => {
    const col = `t0.${quoteIdent(columnName(f.name))}`;
    const v = claims[f.name];
    const test = v === null || v === undefined ? `${col} IS NULL` : `${compared(f, col)} IS NOT DISTINCT FROM ${compared(f, params.add(v, PG_TYPES[f.type]))}`;
    return `(${test}) AS c${i}`;
  });

  // Check the limit, compare and record the attempt in one transaction, under a lock per
  // (agency, dataset, record, field): concurrent verifications (aliases, parallel requests) are
  // counted one after the other, so none slips past the limit.
  const { rows, results, found } = await services.sql.begin(async (tx) => {
    for (const name of fields.map((f) => f.name).sort()) {
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`verify\u001f${p.agency}\u001f${datasetId}\u001f${keyHash}\u001f${name}`}, 0))`;
    }
    const earlier = await tx<{ field: string; claim_hash: string }[]>`
      SELECT DISTINCT field, claim_hash FROM verification_attempt
      WHERE agency = ${p.agency} AND dataset_id = ${datasetId} AND key_hash = ${keyHash}
        AND field IN ${tx(fields.map((f) => f.name))}
        AND at > now() - make_interval(hours => ${limits.verifyWindowHours})`;
    for (const [i, f] of fields.entries()) {
      const seen = new Set(earlier.filter((e) => e.field === f.name).map((e) => e.claim_hash));
      if (!seen.has(claimHashes[i]) && seen.size >= limits.verifyDistinctClaims) {
        audit.fieldsDenied.add(`${AccessAudit.fieldKey(ds.code, f.name)}:verify`);
        throw new GatewayError(
          `verification limit: at most ${limits.verifyDistinctClaims} different values may be claimed for ${ds.typeName}.${f.name} of one record within ${limits.verifyWindowHours} h (limits.verifyDistinctClaims); the same claim may be repeated`,
          GatewayErrorCode.RATE_LIMITED,
        );
      }
    }
    let rows: Record<string, unknown>[];
    try {
      rows = await tx.unsafe(
        `SELECT ${checks.join(', ')}, ${auditHashes(ds, 't0', params, services.auditKeys.dataPads)}::text AS h FROM ${table} t0 WHERE ${conds.join(' AND ')}`,
        params.values as never[],
      );
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('22')) throw new UserInputError('a key or claimed value does not fit its field type');
      throw err;
    }
    const found = rows.length > 0;
    const results = found ? fields.map((f, i) => ({ field: f.name, result: (rows[0][`c${i}`] ? 'MATCH' : 'NO_MATCH') as ClaimResult })) : [];
    await tx`
      INSERT INTO verification_attempt ${tx(
        fields.map((f, i) => ({
          agency: p.agency,
          dataset_id: datasetId,
          key_hash: keyHash,
          field: f.name,
          claim_hash: claimHashes[i],
          result: found ? results[i].result : 'NOT_FOUND',
        })),
      )}`;
    return { rows, results, found };
  });
  for (const f of fields) audit.fieldsReturned.add(`${AccessAudit.fieldKey(ds.code, f.name)}:verify`);
  if (found) {
    audit.rowCount++;
    noteAuditHashes(audit, rows[0].h as string);
  }
  return { found, results };
}
