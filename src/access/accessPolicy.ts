/**
 * What one caller may read, for the purpose it declared (R7–R10, minimum scope):
 *
 * - the source department reads its own datasets without a grant, every field but NOT_SHARED
 *   ones, in clear;
 * - any other agency reads a dataset only through its READ grants for the declared purpose
 *   that are valid now: the fields they name (never NOT_SHARED; a grant obtained on
 *   application only counts for fields still UNCONDITIONAL), on the rows their restrictions
 *   allow. With several grants, a field is returned only on rows of a grant that covers it;
 *   masked fields are returned in clear only under a grant that allows it on all rows
 *   (a clear permission limited to some rows masks every row, the safe side);
 * - NOT_SHARED values are never read by anyone through the gateway (verification only).
 *
 * Access views are memoised on the grant store's cached arrays, so a steady caller gets the
 * same objects request after request (the query compiler caches statements on them).
 */
import type { Principal, Purpose } from '../auth/Principal';
import type { Catalog, CatalogDataset, CatalogField, CatalogReference, MaskRule } from '../catalog/Catalog';
import type { FilterInput } from '../graphql/compileQuery';
import { type ActiveGrant, type GrantStore, isValidAt } from './grantStore';

export interface FieldAccess {
  /** Grants whose row restriction decides, row by row, whether the value is returned; null = every row. */
  rowFilters: FilterInput[] | null;
  /** Mask rule applied to returned values; null = clear. */
  mask: MaskRule | null;
}

export interface DatasetAccess {
  ds: CatalogDataset;
  basis: 'OWNER' | 'GRANT' | 'NONE';
  /** Grant ids in use (empty for OWNER and NONE). */
  grantIds: number[];
  /** Readable fields by name. */
  fields: ReadonlyMap<string, FieldAccess>;
  /** Rows the caller may see: any of these filters holds; null = every row. */
  rowFilters: FilterInput[] | null;
  /**
   * Why access is refused, and how to obtain it (for NONE, and for fields not in `fields`);
   * with `outsideRows`, why a readable field of a row outside the rows its grants cover is not
   * given (FieldAccess.rowFilters).
   */
  denial(field?: CatalogField, outsideRows?: boolean): string;
}

export interface AccessView {
  readonly agency: string;
  readonly purpose: Purpose | null;
  of(ds: CatalogDataset): DatasetAccess;
}

function describe(purpose: Purpose | null): string {
  return purpose ? `purpose "${purpose.code}"` : 'no declared purpose';
}

function ownerAccess(ds: CatalogDataset): DatasetAccess {
  const fields = new Map<string, FieldAccess>();
  for (const f of ds.fields) if (f.shareClass !== 'NOT_SHARED') fields.set(f.name, { rowFilters: null, mask: null });
  return {
    ds,
    basis: 'OWNER',
    grantIds: [],
    fields,
    rowFilters: null,
    denial: (f) =>
      f
        ? `${ds.typeName}.${f.name} (${f.label}) is NOT_SHARED (不予共享): its values never leave the database, not even to the source department through the gateway; use verification (核实比对)`
        : '',
  };
}

function howToObtain(ds: CatalogDataset, f: CatalogField): string {
  switch (f.shareClass) {
    case 'UNCONDITIONAL':
      return `apply for it with applyForGrant (UNCONDITIONAL fields are granted at once)`;
    case 'CONDITIONAL':
      return `it is CONDITIONAL (有条件共享): ask the source department ${ds.departmentCode} to grant it for your purpose`;
    default:
      return `it is NOT_SHARED (不予共享) and can never be read; ask the source department ${ds.departmentCode} for verification (核实比对)`;
  }
}

/** A grant lets its holder read `f`: named in it, and issued or applied for (UNCONDITIONAL fields only). */
function coversField(g: ActiveGrant, f: CatalogField): boolean {
  return g.fields.has(f.name) && (g.basis === 'ISSUED' || f.shareClass === 'UNCONDITIONAL');
}

function grantAccess(ds: CatalogDataset, grants: ActiveGrant[], agency: string, purpose: Purpose | null): DatasetAccess {
  const denialOf = (f?: CatalogField, outsideRows = false) => {
    if (f && outsideRows) {
      const covering = grants.filter((g) => coversField(g, f)).map((g) => g.id);
      return `${ds.typeName}.${f.name} (${f.label}) of this row is outside the rows that your grant${covering.length > 1 ? 's' : ''} ${covering.join(', ')} for ${describe(purpose)} cover for this field (row restriction); ask the source department ${ds.departmentCode} to extend the grant to these rows`;
    }
    if (!purpose) return `${ds.code} (${ds.name}) is read for a declared purpose: send the X-Purpose header with the purpose code of your grant`;
    if (!grants.length) {
      return `${agency} holds no grant on ${ds.code} (${ds.name}) for ${describe(purpose)}: apply with applyForGrant for UNCONDITIONAL fields, or ask the source department ${ds.departmentCode} for CONDITIONAL ones`;
    }
    if (!f) return '';
    return `${ds.typeName}.${f.name} (${f.label}) is not covered by your grant${grants.length > 1 ? 's' : ''} ${grants.map((g) => g.id).join(', ')} for ${describe(purpose)}; ${howToObtain(ds, f)}`;
  };
  if (!grants.length) return { ds, basis: 'NONE', grantIds: [], fields: new Map(), rowFilters: [], denial: denialOf };
  const rowFilters = grants.some((g) => !g.rowFilter) ? null : grants.map((g) => g.rowFilter!);
  const fields = new Map<string, FieldAccess>();
  for (const f of ds.fields) {
    if (f.shareClass === 'NOT_SHARED') continue;
    const covering = grants.filter((g) => coversField(g, f));
    if (!covering.length) continue;
    // Row condition of the field: only needed when its grants see fewer rows than the dataset's.
    const fieldFilters = covering.some((g) => !g.rowFilter) ? null : covering.map((g) => g.rowFilter!);
    const sameRows = fieldFilters === null ? rowFilters === null : covering.length === grants.length;
    const clear = !f.mask || covering.some((g) => g.clearFields.has(f.name) && (!g.rowFilter || grants.length === 1));
    fields.set(f.name, { rowFilters: sameRows ? null : fieldFilters, mask: clear ? null : f.mask! });
  }
  return { ds, basis: 'GRANT', grantIds: grants.map((g) => g.id), fields, rowFilters, denial: denialOf };
}

function createView(catalog: Catalog, agency: string, purpose: Purpose | null, grants: readonly ActiveGrant[]): AccessView {
  const byDataset = new Map<string, DatasetAccess>();
  return {
    agency,
    purpose,
    of(ds) {
      let a = byDataset.get(ds.code);
      if (!a) {
        // The source department reads its own data without a grant, but for a declared purpose too.
        a = ds.departmentCode === agency && purpose ? ownerAccess(ds) : grantAccess(ds, grants.filter((g) => g.datasetCode === ds.code), agency, purpose);
        byDataset.set(ds.code, a);
      }
      return a;
    },
  };
}

/** Memo: cached grant array → catalog → "purpose|valid grant ids" → view. */
const views = new WeakMap<readonly ActiveGrant[], WeakMap<Catalog, Map<string, AccessView>>>();

/** The access view of a caller now. */
export async function accessViewFor(store: GrantStore, catalog: Catalog, principal: Principal, purpose: Purpose | null): Promise<AccessView> {
  const all = await store.agencyGrants(principal.agency);
  const now = new Date();
  const usable = purpose ? all.filter((g) => g.kind === 'READ' && g.purposeCode === purpose.code && isValidAt(g, now)) : [];
  const key = `${purpose?.code ?? ''}|${usable.map((g) => g.id).join(',')}`;
  let byCatalog = views.get(all);
  if (!byCatalog) views.set(all, (byCatalog = new WeakMap()));
  let byKey = byCatalog.get(catalog);
  if (!byKey) byCatalog.set(catalog, (byKey = new Map()));
  let view = byKey.get(key);
  if (!view) {
    view = createView(catalog, principal.agency, purpose, usable);
    if (byKey.size > 100) byKey.clear();
    byKey.set(key, view);
  }
  return view;
}

/** The view of a caller without identity (development mode only): no dataset is readable. */
export function anonymousView(): AccessView {
  return {
    agency: '',
    purpose: null,
    of: (ds) => ({
      ds,
      basis: 'NONE',
      grantIds: [],
      fields: new Map(),
      rowFilters: [],
      denial: () => `${ds.code} (${ds.name}) is read by an identified agency only: send Authorization: Bearer <token>`,
    }),
  };
}

/**
 * Development mode with `access.enforce` off (bench/ measures the access path's cost with it):
 * every caller reads every shareable field of every dataset, unmasked. Never in production.
 */
export function unrestrictedView(): AccessView {
  const byDataset = new Map<string, DatasetAccess>();
  return {
    agency: '',
    purpose: null,
    of(ds) {
      let a = byDataset.get(ds.code);
      if (!a) byDataset.set(ds.code, (a = ownerAccess(ds)));
      return a;
    },
  };
}

/**
 * Why the caller may not follow `ref` from `ds` to `target`, or null when it may. A reference is
 * a join on ref.fromField = ref.toField, so it reveals both values: both must be readable in
 * clear on every row the caller sees (not masked, not restricted to some rows), and the target
 * dataset must be readable at all.
 */
export function referenceDenial(view: AccessView, ds: CatalogDataset, ref: CatalogReference, target: CatalogDataset): string | null {
  const tgt = view.of(target);
  if (tgt.basis === 'NONE') return tgt.denial();
  const src = view.of(ds);
  const clear = (fa: FieldAccess | undefined) => !!fa && !fa.mask && !fa.rowFilters;
  if (clear(src.fields.get(ref.fromField)) && clear(tgt.fields.get(ref.toField))) return null;
  return `${ds.typeName}.${ref.name} (${ref.label}) joins ${ds.typeName}.${ref.fromField} to ${target.typeName}.${ref.toField}: following it needs both fields readable in clear on every row you see; ask for them in your grants`;
}
