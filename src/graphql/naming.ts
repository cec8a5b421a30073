/**
 * Every generated name comes from here (PostGraphile's inflectors without the plugin
 * system): GraphQL names of a dataset's lookup and list fields, and the PostgreSQL
 * names of its row table and columns.
 */
import type { CatalogDataset } from '../catalog/Catalog';

/** PostgreSQL schema that holds one row table per dataset. */
export const ROWS_SCHEMA = 'ds';

export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** `Enterprise` → `enterprise` (lookup by key). */
export function lookupFieldName(ds: Pick<CatalogDataset, 'typeName'>): string {
  return lowerFirst(ds.typeName);
}

/** `Enterprise` → `enterprises`, `AirQuality` → `airQualities` (paginated list). */
export function listFieldName(ds: Pick<CatalogDataset, 'typeName'>): string {
  return pluralize(lowerFirst(ds.typeName));
}

export function pluralize(word: string): string {
  if (/[^aeiou]y$/.test(word)) return word.slice(0, -1) + 'ies';
  if (/(s|x|z|ch|sh)$/.test(word)) return word + 'es';
  return word + 's';
}

/** Row table of a dataset, inside ROWS_SCHEMA. */
export function tableName(ds: Pick<CatalogDataset, 'typeName'>): string {
  return snakeCase(ds.typeName);
}

const columnNames = new Map<string, string>();

/** Column of a field; memoised, since query compilation asks for it on every request. */
export function columnName(fieldName: string): string {
  let c = columnNames.get(fieldName);
  if (c === undefined) columnNames.set(fieldName, (c = snakeCase(fieldName)));
  return c;
}

export function connectionTypeName(ds: Pick<CatalogDataset, 'typeName'>): string {
  return `${ds.typeName}Connection`;
}
export function edgeTypeName(ds: Pick<CatalogDataset, 'typeName'>): string {
  return `${ds.typeName}Edge`;
}
export function filterTypeName(ds: Pick<CatalogDataset, 'typeName'>): string {
  return `${ds.typeName}Filter`;
}
export function orderByTypeName(ds: Pick<CatalogDataset, 'typeName'>): string {
  return `${ds.typeName}OrderBy`;
}
