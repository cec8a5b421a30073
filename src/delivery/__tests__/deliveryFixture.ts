/**
 * Test fixture for deliveries: a one-dataset catalog covering every FieldType plus a
 * credit-code (USCC) key and an ID-number field, its metadata rows, its row table, and
 * generators of valid rows (check characters from the real checksum helpers).
 */
import type { Catalog, CatalogDataset } from '../../catalog/Catalog';
import type { Sql } from '../../db/createSql';
import { ensureRowTables } from '../../db/rowTables';
import { idNumberCheckDigit, USCC_ALPHABET, usccCheckChar } from '../../validation/checksums';
import type { DeliveryTarget } from '../deliverRows';
import { catalogField as field } from '../../__testUtils__/catalogField';


export const licenceDataset: CatalogDataset = {
  code: 'HZ-SCJGJ-TEST/LICENCE',
  typeName: 'TestLicence',
  name: '测试许可',
  summary: 'delivery tests',
  departmentCode: 'HZ-SCJGJ',
  format: 'DATABASE',
  updateCycle: 'DAILY',
  shareMode: 'API',
  openType: 'NOT_OPEN',
  references: [],
  fields: [
    field('uscc', 'STRING', { isKey: true, required: true, check: 'USCC', subjectId: true }),
    field('name', 'STRING', { required: true }),
    field('holderIdNumber', 'STRING', { check: 'ID_NUMBER', personal: true }),
    field('staffCount', 'INT'),
    field('score', 'FLOAT'),
    field('capital', 'DECIMAL'),
    field('active', 'BOOLEAN'),
    field('issuedOn', 'DATE'),
    field('checkedAt', 'DATETIME'),
    field('district', 'STRING', { indexed: true }),
  ],
};

export const testCatalog: Catalog = { departments: [], functionItems: [], datasets: [licenceDataset] };

/** The GraphQL field names, in catalog order (the CSV header). */
export const FIELD_NAMES = licenceDataset.fields.map((f) => f.name);

/** A valid credit code per i (organisation-code part = i in base 31). */
export function validUscc(i: number): string {
  let org = '';
  let n = i;
  for (let k = 0; k < 9; k++) {
    org = USCC_ALPHABET[n % 31] + org;
    n = Math.floor(n / 31);
  }
  const first17 = `91441302${org}`;
  return first17 + usccCheckChar(first17);
}

/** A valid ID number per i (born 1980-01-01 + i days, sequence i mod 1000). */
export function validIdNumber(i: number): string {
  const birth = new Date(Date.UTC(1980, 0, 1) + (i % 10_000) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const first17 = `441302${birth}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idNumberCheckDigit(first17);
}

/** The same code with a wrong last character. */
export function breakCheckChar(code: string): string {
  const last = code[code.length - 1];
  return code.slice(0, -1) + (last === '1' ? '2' : '1');
}

export interface LicenceRecord {
  uscc: string;
  name: string | null;
  holderIdNumber: string | null;
  staffCount: number | string | null;
  score: number | string | null;
  capital: number | string | null;
  active: boolean | string | null;
  issuedOn: string | null;
  checkedAt: string | null;
  district: string | null;
  [extra: string]: unknown;
}

/** A valid record; `version` changes the non-key values so a redelivery is visible. */
export function licence(i: number, version = 1): LicenceRecord {
  return {
    uscc: validUscc(i),
    name: `惠州市第${i}号公司 v${version}`,
    holderIdNumber: validIdNumber(i),
    staffCount: (i % 500) + version,
    score: i / 8,
    capital: `${i * 100 + version}.50`,
    active: i % 2 === 0,
    issuedOn: `20${String(10 + (i % 15)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
    checkedAt: `2025-06-0${1 + (i % 9)}T08:30:00+08:00`,
    district: ['惠城区', '惠阳区', '博罗县'][i % 3],
  };
}

export function licences(from: number, count: number, version = 1): LicenceRecord[] {
  return Array.from({ length: count }, (_, k) => licence(from + k, version));
}

/** RFC 4180 CSV text of records (header = FIELD_NAMES), quoting where needed. */
export function toCsv(records: readonly LicenceRecord[], eol = '\n'): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [FIELD_NAMES.join(','), ...records.map((r) => FIELD_NAMES.map((f) => cell(r[f])).join(','))].join(eol) + eol;
}

export function toNdjson(records: readonly unknown[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** Inserts the department and dataset metadata rows and creates the row table. */
export async function setUpLicenceDataset(sql: Sql): Promise<DeliveryTarget> {
  const [dep] = await sql<{ id: number }[]>`
    INSERT INTO department (code, name, uscc, level) VALUES ('HZ-SCJGJ', '惠州市市场监督管理局', ${validUscc(99_999_999)}, 'CITY')
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id`;
  const [ds] = await sql<{ id: number }[]>`
    INSERT INTO dataset (code, department_id, type_name, table_name)
    VALUES (${licenceDataset.code}, ${dep.id}, ${licenceDataset.typeName}, 'test_licence')
    ON CONFLICT (code) DO UPDATE SET type_name = EXCLUDED.type_name RETURNING id`;
  await ensureRowTables(sql, testCatalog);
  return { catalog: testCatalog, dataset: licenceDataset, datasetId: ds.id, departmentId: dep.id };
}

/** Empties the row table and the delivery log between tests. */
export async function resetLicences(sql: Sql, target: DeliveryTarget): Promise<void> {
  await sql`TRUNCATE ds.test_licence`;
  await sql`DELETE FROM delivery`;
  await sql`UPDATE dataset SET last_delivered_at = NULL WHERE id = ${target.datasetId}`;
}

/** The whole row table, every column, ordered by key: compared before and after a rejection. */
export async function tableSnapshot(sql: Sql): Promise<Record<string, unknown>[]> {
  return sql<Record<string, unknown>[]>`SELECT * FROM ds.test_licence ORDER BY uscc`;
}

export async function rowCount(sql: Sql): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ds.test_licence`;
  return n;
}
