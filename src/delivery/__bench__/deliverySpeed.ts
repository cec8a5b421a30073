/**
 * Delivery throughput: N generated Enterprise rows as one CSV upload through deliverFile.
 * Not a jest test. Run:
 *
 *   npx tsx src/delivery/__bench__/deliverySpeed.ts [rows=1000000] [--update]
 *
 * Drops and recreates the scratch database `hzgw_bench_delivery` (server from
 * BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres), migrates it and
 * delivers into an empty table; `--update` then delivers the same rows again (all updates).
 * The CSV is generated while it streams (its cost is part of the figure). Prints rows/s,
 * elapsed time and peak RSS.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Readable } from 'node:stream';
import type { Catalog, CatalogDataset, CatalogField, ValueCheck } from '../../catalog/Catalog';
import { createSql, type Sql } from '../../db/createSql';
import { migrate } from '../../db/migrate';
import { ensureRowTables } from '../../db/rowTables';
import { idNumberCheckDigit, USCC_ALPHABET, usccCheckChar } from '../../validation/checksums';
import { deliverFile, type DeliveryResult, type DeliveryTarget } from '../deliverRows';
import { catalogField as field } from '../../__testUtils__/catalogField';

const DB = 'hzgw_bench_delivery';


const check = (c: ValueCheck): Partial<CatalogField> => ({ check: c });

const enterprise: CatalogDataset = {
  code: 'HZ-SCJGJ-BENCH/ENTERPRISE',
  typeName: 'Enterprise',
  name: '企业登记信息',
  summary: 'bench',
  departmentCode: 'HZ-SCJGJ',
  format: 'DATABASE',
  updateCycle: 'DAILY',
  shareMode: 'API',
  openType: 'NOT_OPEN',
  references: [],
  fields: [
    field('uscc', 'STRING', { isKey: true, required: true, indexed: true, subjectId: true, ...check('USCC') }),
    field('name', 'STRING', { required: true }),
    field('legalRepresentative', 'STRING', { personal: true }),
    field('legalRepIdNumber', 'STRING', { personal: true, ...check('ID_NUMBER') }),
    field('registeredCapital', 'DECIMAL'),
    field('establishedOn', 'DATE'),
    field('district', 'STRING', { indexed: true }),
    field('status', 'STRING', { indexed: true }),
    field('address', 'STRING'),
    field('phone', 'STRING'),
  ],
};

const catalog: Catalog = { departments: [], functionItems: [], datasets: [enterprise] };

const DISTRICTS = ['惠城区', '惠阳区', '博罗县', '惠东县', '龙门县', '大亚湾开发区', '仲恺高新区'];
const STATUSES = ['存续', '在业', '迁出', '吊销', '注销'];
const SURNAMES = '陈李张黄林叶刘何吴钟';
const DAY_MS = 86_400_000;

/** A deterministic valid credit code per i (org-code part = i in base 31). */
function uscc(i: number): string {
  let org = '';
  let n = i;
  for (let k = 0; k < 9; k++) {
    org = USCC_ALPHABET[n % 31] + org;
    n = Math.floor(n / 31);
  }
  const first17 = `91441302${org}`;
  return first17 + usccCheckChar(first17);
}

const isoDay = (base: number, i: number): string => new Date(base + i * DAY_MS).toISOString().slice(0, 10);
// Precomputed so that generating the CSV costs little next to delivering it.
const BIRTH_DATES = Array.from({ length: 18_000 }, (_, i) => isoDay(Date.UTC(1950, 0, 1), i).replace(/-/g, ''));
const ESTABLISHED = Array.from({ length: 12_000 }, (_, i) => isoDay(Date.UTC(1990, 0, 1), i));
const SEQ = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

function idNumber(i: number): string {
  const first17 = `441302${BIRTH_DATES[i % 18_000]}${SEQ[i % 1000]}`;
  return first17 + idNumberCheckDigit(first17);
}

function* csv(rows: number): Generator<Buffer> {
  let text = 'uscc,name,legalRepresentative,legalRepIdNumber,registeredCapital,establishedOn,district,status,address,phone\n';
  for (let i = 0; i < rows; i++) {
    const district = DISTRICTS[i % DISTRICTS.length];
    // Every 50th name carries a comma, so the parser also meets quoted values.
    const name = i % 50 === 0 ? `"惠州市${district}第${i}号商贸有限公司, 分公司"` : `惠州市第${i}号科技有限公司`;
    text +=
      `${uscc(i)},${name},${SURNAMES[i % 10]}某${i % 97},${idNumber(i)},${(i * 7919) % 100_000_000}.${SEQ[i % 100].slice(1)},` +
      `${ESTABLISHED[i % 12_000]},${district},${STATUSES[i % 5]},惠州市${district}某某路${i % 999}号,13${SEQ[i % 1000]}${SEQ[(i >> 10) % 1000]}${i % 1000 < 100 ? '0' : '1'}\n`;
    if (text.length >= 32_768) {
      yield Buffer.from(text);
      text = '';
    }
  }
  yield Buffer.from(text);
}

async function prepare(serverUrl: string): Promise<{ sql: Sql; target: DeliveryTarget }> {
  const admin = createSql(serverUrl, { max: 1 });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${DB}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(serverUrl);
  url.pathname = `/${DB}`;
  const sql = createSql(url.toString(), { max: 4, applicationName: 'delivery-bench' });
  await migrate(sql);
  const [dep] = await sql<{ id: number }[]>`
    INSERT INTO department (code, name, uscc, level) VALUES ('HZ-SCJGJ', '惠州市市场监督管理局', ${uscc(999_999_999)}, 'CITY') RETURNING id`;
  const [ds] = await sql<{ id: number }[]>`
    INSERT INTO dataset (code, department_id, type_name, table_name) VALUES (${enterprise.code}, ${dep.id}, 'Enterprise', 'enterprise') RETURNING id`;
  await ensureRowTables(sql, catalog);
  return { sql, target: { catalog, dataset: enterprise, datasetId: ds.id, departmentId: dep.id } };
}

/**
 * CPU seconds used so far by the PostgreSQL backends of this benchmark's pool, from
 * /proc/<pid>/stat (only when the server runs on this machine; else null). With the CPU time
 * of this process it shows where the time goes, whatever else the machine is doing.
 */
async function backendCpuSeconds(sql: Sql): Promise<Map<number, number> | null> {
  const rows = await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE application_name = 'delivery-bench'`;
  const out = new Map<number, number>();
  try {
    for (const { pid } of rows) {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      // utime and stime (fields 14 and 15 of stat) in clock ticks of 1/100 s.
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    }
  } catch {
    return null;
  }
  return out;
}

async function timed(label: string, sql: Sql, target: DeliveryTarget, rows: number): Promise<DeliveryResult> {
  const pgBefore = await backendCpuSeconds(sql);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await deliverFile(sql, target, { deliveredBy: 'HZ-SCJGJ/bench', channel: 'CSV' }, Readable.from(csv(rows)), {
    maxReportedProblems: 10,
    maxBytes: 4 * 1024 ** 3,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const pgAfter = await backendCpuSeconds(sql);
  if (result.status !== 'ACCEPTED') throw new Error(`${label}: delivery rejected: ${JSON.stringify(result.problems)}`);
  let pgCpu = 'n/a';
  if (pgBefore && pgAfter) {
    let total = 0;
    for (const [pid, after] of pgAfter) total += after - (pgBefore.get(pid) ?? 0);
    pgCpu = `${total.toFixed(1)} s`;
  }
  console.log(
    `${label}: ${rows} rows in ${seconds.toFixed(2)} s = ${Math.round(rows / seconds)} rows/s ` +
      `(inserted ${result.inserted}, updated ${result.updated}); peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB; ` +
      `CPU: Node ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (CSV generation included), PostgreSQL backend ${pgCpu}; ` +
      `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`,
  );
  return result;
}

async function main(): Promise<void> {
  const rows = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const update = process.argv.includes('--update');
  const { sql, target } = await prepare(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  try {
    await timed('first delivery (empty table)', sql, target, rows);
    if (update) await timed('second delivery (same keys, all updated)', sql, target, rows);
    const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ds.enterprise`;
    if (n !== rows) throw new Error(`expected ${rows} rows in ds.enterprise, found ${n}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
