/**
 * The access-record writer alone (src/audit/createAccessRecordWriter.ts), without the gateway:
 * C concurrent appenders, each appending Q1-shaped records one after the other (a record like
 * the one every Q1 request writes: 5 fields, 2 masking rules, 1 row-key and 2 subject hashes) for
 * D seconds, three times per pipeline depth. Prints records/s, Node CPU and PostgreSQL CPU per
 * record (all postgres processes' /proc ticks, so nothing else should use the server meanwhile)
 * and the median append latency. Runs on a scratch database cloned from a migrated template, as
 * the tests do (127.0.0.1:5432, user postgres, or TEST_DATABASE_URL), and drops both afterwards.
 *
 *   npm run bench:records                     (C=32 D=4 DEPTHS=1,2,4 SHAPE=q1|q2)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pino from 'pino';
import type { AccessRecordInput } from '../src/audit/AccessRecord';
import { createAuditKeys } from '../src/audit/auditKeys';
import { createAccessRecordWriter } from '../src/audit/createAccessRecordWriter';
import { createSql } from '../src/db/createSql';
import globalSetup from '../src/__testUtils__/globalSetup';
import globalTeardown from '../src/__testUtils__/globalTeardown';
import { createTestDatabase } from '../src/__testUtils__/testDatabase';

const C = Number(process.env.C ?? 32);
const D = Number(process.env.D ?? 4);
const DEPTHS = (process.env.DEPTHS ?? '1,2,4').split(',').map(Number);
/** q1: one enterprise; q2: a page of 50 enterprises and their ~156 licences. */
const SHAPE = process.env.SHAPE ?? 'q1';
const ROUNDS = 3;
const keys = createAuditKeys(randomBytes(32));
const TICK_US = 1e6 / 100; // USER_HZ

/** CPU ticks of every PostgreSQL process (backends included). */
function postgresTicks(): number {
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (!stat.includes('(postgres)')) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks;
}

const DS = '3.44.13.002/00000001';
const LIC = '3.44.13.002/00000002';
/**
 * Records made before the clock starts (their keyed hashes are the gateway's work, not the
 * writer's); each append takes the next one with its own request id and time.
 */
let made: AccessRecordInput[] = [];
let next = 0;
function record(): AccessRecordInput {
  if (!made.length) made = Array.from({ length: 512 }, () => (SHAPE === 'q2' ? q2Record() : q1Record()));
  return Object.assign({}, made[next++ % made.length], { requestId: randomUUID(), at: new Date() });
}
/** As a Q2 page records it: 50 enterprises' and 156 licences' row keys, 100 subject hashes. */
function q2Record(): AccessRecordInput {
  return {
    ...q1Record(),
    operationName: 'Q2',
    datasets: [DS, LIC],
    fieldsReturned: [
      ...['establishedOn', 'legalRepresentative', 'name', 'status', 'uscc'].map((f) => `${DS}#${f}`),
      ...['issuingAuthority', 'licenseNo', 'licenseType', 'status', 'validUntil'].map((f) => `${LIC}#${f}`),
    ],
    masking: { [`${DS}#legalRepresentative`]: 'NAME' },
    rowCount: 206,
    rowKeyHashes: Array.from({ length: 206 }, () => keys.dataHash(randomUUID())),
    subjectHashes: Array.from({ length: 100 }, () => keys.subjectHash(randomUUID())).sort(),
  };
}
function q1Record(): AccessRecordInput {
  return {
    at: new Date(),
    requestId: randomUUID(),
    agency: 'HZ-GAJ',
    subject: 'bench-officer',
    purposeCode: 'bench-q',
    purposeText: '基准测试：企业信息核验',
    operationType: 'query',
    operationName: 'Q1',
    operationHash: keys.operationHash(randomUUID()),
    grantIds: [1, 2],
    datasets: [DS],
    fieldsReturned: ['legalRepIdNumber', 'legalRepresentative', 'name', 'registeredCapital', 'uscc'].map((f) => `${DS}#${f}`),
    fieldsDenied: [],
    masking: { [`${DS}#legalRepIdNumber`]: 'ID_NUMBER', [`${DS}#legalRepresentative`]: 'NAME' },
    rowCount: 1,
    rowKeyHashes: [keys.dataHash(randomUUID())],
    subjectHashes: [keys.subjectHash(randomUUID()), keys.subjectHash(randomUUID())].sort(),
    rowSet: null,
    outcome: 'OK',
    errorCodes: [],
  };
}

async function main(): Promise<void> {
  await globalSetup();
  const db = await createTestDatabase();
  try {
    console.log(`access-record writer: ${C} concurrent appenders, ${D} s per run, ${SHAPE.toUpperCase()}-shaped records`);
    console.log('| pipeline depth | run | records/s | Node CPU µs/record | PostgreSQL CPU µs/record | append p50 ms |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const depth of DEPTHS) {
      // The gateway's setting: its own pool of 2 connections for the record and the rate limit.
      const sql = createSql(db.url, { max: 2 });
      const writer = createAccessRecordWriter(sql, keys, pino({ level: 'silent' }), { pipelineDepth: depth });
      try {
        await writer.append(record()); // the head, and the prepared statements
        for (let run = 1; run <= ROUNDS; run++) {
          let n = 0;
          let stop = false;
          const latencies: number[] = [];
          const t0 = performance.now();
          const pg0 = postgresTicks();
          const cpu0 = process.cpuUsage();
          const timer = setTimeout(() => (stop = true), D * 1000);
          await Promise.all(
            Array.from({ length: C }, async () => {
              while (!stop) {
                const a = performance.now();
                await writer.append(record());
                latencies.push(performance.now() - a);
                n++;
              }
            }),
          );
          clearTimeout(timer);
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const pgUs = (postgresTicks() - pg0) * TICK_US;
          latencies.sort((x, y) => x - y);
          console.log(
            `| ${depth} | ${run} | ${Math.round(n / seconds)} | ${((cpu.user + cpu.system) / n).toFixed(1)} | ${(pgUs / n).toFixed(1)} | ${latencies[latencies.length >> 1].toFixed(2)} |`,
          );
        }
      } finally {
        await writer.close();
        await sql.end();
      }
    }
  } finally {
    await db.drop();
    await globalTeardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
