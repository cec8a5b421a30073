/**
 * The access record's storage (R7) on a real PostgreSQL: group-committed appends from one or
 * several writers form one valid chain, tampering is found and classified, failed batches leave
 * the chain whole, and `npm run audit:verify` reports it all with its exit code.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createSql, type Sql } from '../../db/createSql';
import { createTestDatabase, type TestDatabase } from '../../__testUtils__/testDatabase';
import type { AccessRecordInput, AccessRecordWriter } from '../AccessRecord';
import { createAuditKeys, DATA_HASH_BYTES } from '../auditKeys';
import { canonicalRecordText, createAccessRecordWriter, GENESIS_HASH } from '../createAccessRecordWriter';
import { rowSetDigest } from '../rowSet';
import { verifyAccessChain } from '../verifyAccessChain';

const ROOT = path.resolve(__dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const MASTER = randomBytes(32);
const keys = createAuditKeys(MASTER);
const silent = pino({ level: 'silent' });

type Db = TestDatabase & { drop(): Promise<void> };

/** A record varied by `i` (nulls, unicode, unsorted masking keys, several array lengths). */
function record(i: number, overrides: Partial<AccessRecordInput> = {}): AccessRecordInput {
  return {
    at: new Date(Date.UTC(2026, 10, 27, 4, 0, 0, i * 7)),
    requestId: `req-${i}`,
    agency: i % 2 ? 'HZ-SCJGJ' : 'HZ-GAJ',
    subject: `officer-${i % 5}`,
    purposeCode: i % 3 ? 'P-LICENSING' : null,
    purposeText: i % 3 ? '企业开办审批 "核验"\n第二行' : null,
    operationType: i % 10 === 9 ? null : 'query',
    operationName: i % 4 ? `Enterprises${i}` : null,
    operationHash: keys.operationHash(`query Q${i} { enterprises { nodes { uscc } } }`),
    grantIds: Array.from({ length: i % 4 }, (_, k) => k + i),
    datasets: ['3.44.13.002/00000001'],
    fieldsReturned: ['3.44.13.002/00000001#uscc', '3.44.13.002/00000001#name'].slice(0, (i % 2) + 1),
    fieldsDenied: i % 5 ? [] : ['3.44.13.002/00000001#legalPersonId'],
    masking: i % 2 ? { 'z#phone': 'PHONE', 'a#name': 'NAME', '1#x': 'KEEP_LAST_4' } : {},
    rowCount: i,
    rowKeyHashes: Array.from({ length: i % 3 }, (_, k) => keys.dataHash(`row ${i} ${k}`)),
    subjectHashes: i % 2 ? [keys.subjectHash(`11010519491231${String(i).padStart(3, '0')}X`)] : [],
    rowSet: null,
    outcome: (['OK', 'PARTIAL', 'DENIED', 'FAILED'] as const)[i % 4],
    errorCodes: i % 4 === 3 ? ['INTERNAL_SERVER_ERROR'] : [],
    ...overrides,
  };
}

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  try {
    return await fn(db);
  } finally {
    await db.drop();
  }
}

/** Appends records 0..n-1 through a fresh writer, all at once. */
async function writeChain(sql: Sql, n: number): Promise<void> {
  const writer = createAccessRecordWriter(sql, keys, silent);
  await Promise.all(Array.from({ length: n }, (_, i) => writer.append(record(i))));
  await writer.close();
}

async function storedSeqs(sql: Sql): Promise<string[]> {
  return (await sql<{ seq: string }[]>`SELECT seq::text AS seq FROM access_record ORDER BY access_record.seq`).map((r) => r.seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => String(from + k));

/** Request ids of the stored records, in chain order. */
async function storedRequestIds(sql: Sql): Promise<string[]> {
  return (await sql<{ request_id: string }[]>`SELECT request_id FROM access_record ORDER BY seq`).map((r) => r.request_id);
}

/**
 * Writer A, pipelining 2 batches on a pool of ONE connection (so its prepared statement is there
 * for every batch), after records a-0 (the locking way: no head known yet) and a-1 (one statement,
 * which prepares it). `statements()` counts its INSERT statements sent so far (2 by then).
 */
async function pipelinedWriter(db: Db): Promise<{ sql: Sql; writer: AccessRecordWriter; statements: () => number }> {
  let n = 0;
  const sql = createSql(db.url, { max: 1, onQuery: (q) => void (/INSERT INTO access_record/.test(q) && n++) });
  const writer = createAccessRecordWriter(sql, keys, silent, { pipelineDepth: 2 });
  await writer.append(record(0, { requestId: 'a-0' }));
  await writer.append(record(1, { requestId: 'a-1' }));
  return { sql, writer, statements: () => n };
}

/**
 * Two batches of A in flight at once: the first waits for the head's lock, which another session
 * holds (`lockWaits` sessions wait for it when A's first batch is there), the second is sent
 * behind it. Resolves once both statements are sent; `holder.release()` lets them run.
 */
async function twoBatchesInFlight(
  db: Db,
  a: Awaited<ReturnType<typeof pipelinedWriter>>,
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
  { holder, lockWaitsBefore = 0 }: { holder?: { release(): Promise<void> }; lockWaitsBefore?: number } = {},
): Promise<{ holder: { release(): Promise<void> }; first: Promise<unknown>; second: Promise<unknown> }> {
  const held = holder ?? (await holdHead(db.sql));
  const sent = a.statements();
  const p1 = first();
  await waitFor(async () => (await lockWaits(db.sql)) === lockWaitsBefore + 1);
  const p2 = second();
  await waitFor(async () => a.statements() === sent + 2);
  return { holder: held, first: p1, second: p2 };
}

/** Another "process" holding the chain head's row lock until release(). */
async function holdHead(sql: Sql): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const done = sql.begin(async (tx) => {
    await tx`SELECT 1 FROM access_chain_head WHERE id = 1 FOR UPDATE`;
    locked();
    await held;
  });
  await isLocked;
  return {
    release: async () => {
      release();
      await done;
    },
  };
}

/** Sessions of this database waiting for a lock. */
async function lockWaits(sql: Sql): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return n;
}

/** Counts the head-locking statements (one per transaction) sent through a pool. */
function countingSql(url: string): { sql: Sql; transactions: () => number } {
  let n = 0;
  const sql = createSql(url, { max: 4, onQuery: (q) => void (/INSERT INTO access_record/.test(q) && n++) });
  return { sql, transactions: () => n };
}

describe('canonicalRecordText', () => {
  const base = { ...record(1), seq: 42n, prevHash: GENESIS_HASH };

  it('is deterministic: masking key order does not matter, seq is decimal, at has milliseconds', () => {
    const reordered = { ...base, masking: { '1#x': 'KEEP_LAST_4', 'a#name': 'NAME', 'z#phone': 'PHONE' } };
    expect(canonicalRecordText(reordered)).toBe(canonicalRecordText(base));
    const text = canonicalRecordText(base);
    expect(text).toContain('"42"');
    expect(text).toContain('"2026-11-27T04:00:00.007Z"');
  });

  it('changes with every field and keeps fields apart whatever they contain', () => {
    const text = canonicalRecordText(base);
    expect(canonicalRecordText({ ...base, seq: 43n })).not.toBe(text);
    expect(canonicalRecordText({ ...base, at: new Date(base.at.getTime() + 1) })).not.toBe(text);
    expect(canonicalRecordText({ ...base, grantIds: [] })).not.toBe(text);
    expect(canonicalRecordText({ ...base, prevHash: 'f'.repeat(64) })).not.toBe(text);
    expect(canonicalRecordText({ ...base, agency: 'A', subject: 'B' })).not.toBe(canonicalRecordText({ ...base, agency: 'A","B', subject: '' }));
    expect(canonicalRecordText({ ...base, datasets: ['a', 'b'] })).not.toBe(canonicalRecordText({ ...base, datasets: ['a,b'] }));
  });
});

describe('canonicalRecordText, byte for byte', () => {
  // Records already stored were hashed over exactly these texts (made by the element-by-element
  // implementation of c7a773d): any change to how a text is built must leave them as they are.
  const golden = {
    seq: 1234567890123n,
    at: new Date(Date.UTC(2026, 10, 28, 5, 6, 7, 89)),
    requestId: 'req-golden',
    agency: 'HZ-GAJ',
    subject: '王小明 😀',
    purposeCode: 'P-LICENSING',
    purposeText: '企业开办审批 "核验"\n第二行\u2028',
    operationType: 'query',
    operationName: null,
    operationHash: 'ab'.repeat(32),
    grantIds: [3, 11],
    datasets: ['3.44.13.002/00000001'],
    fieldsReturned: ['3.44.13.002/00000001#name', '3.44.13.002/00000001#uscc'],
    fieldsDenied: ['3.44.13.002/00000001#legalRepIdNumber'],
    masking: { '3.44.13.002/00000001#name': 'NAME', '3.44.13.002/00000001#address': 'ADDRESS' },
    rowCount: 1,
    rowKeyHashes: ['0123456789abcdef0123456789abcdef'],
    subjectHashes: ['fedcba9876543210fedcba9876543210'],
    rowSet: null,
    outcome: 'PARTIAL' as const,
    errorCodes: ['FORBIDDEN'],
    prevHash: 'cd'.repeat(32),
  };

  it('a record with Chinese text, an emoji and U+2028 (formats 2 and 3: escaped to ASCII)', () => {
    expect(canonicalRecordText(golden, 2)).toBe(String.raw`["hz-access-record/2","1234567890123","2026-11-28T05:06:07.089Z","req-golden","HZ-GAJ","\u738b\u5c0f\u660e \ud83d\ude00","P-LICENSING","\u4f01\u4e1a\u5f00\u529e\u5ba1\u6279 \"\u6838\u9a8c\"\n\u7b2c\u4e8c\u884c\u2028","query",null,"abababababababababababababababababababababababababababababababab",[3,11],["3.44.13.002/00000001"],["3.44.13.002/00000001#name","3.44.13.002/00000001#uscc"],["3.44.13.002/00000001#legalRepIdNumber"],[["3.44.13.002/00000001#address","ADDRESS"],["3.44.13.002/00000001#name","NAME"]],1,["0123456789abcdef0123456789abcdef"],["fedcba9876543210fedcba9876543210"],"PARTIAL",["FORBIDDEN"],"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"]`);
    expect(canonicalRecordText(golden, 3)).toBe(String.raw`["hz-access-record/3","1234567890123","2026-11-28T05:06:07.089Z","req-golden","HZ-GAJ","\u738b\u5c0f\u660e \ud83d\ude00","P-LICENSING","\u4f01\u4e1a\u5f00\u529e\u5ba1\u6279 \"\u6838\u9a8c\"\n\u7b2c\u4e8c\u884c\u2028","query",null,"abababababababababababababababababababababababababababababababab",[3,11],["3.44.13.002/00000001"],["3.44.13.002/00000001#name","3.44.13.002/00000001#uscc"],["3.44.13.002/00000001#legalRepIdNumber"],[["3.44.13.002/00000001#address","ADDRESS"],["3.44.13.002/00000001#name","NAME"]],1,["0123456789abcdef0123456789abcdef"],["fedcba9876543210fedcba9876543210"],"PARTIAL",["FORBIDDEN"],"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",null]`);
  });

  it('an ASCII record naming a row set (format 3)', () => {
    const ascii = { ...golden, subject: 'officer-1', purposeText: 'licensing check', rowSet: 'ef'.repeat(32) };
    expect(canonicalRecordText(ascii)).toBe(String.raw`["hz-access-record/3","1234567890123","2026-11-28T05:06:07.089Z","req-golden","HZ-GAJ","officer-1","P-LICENSING","licensing check","query",null,"abababababababababababababababababababababababababababababababab",[3,11],["3.44.13.002/00000001"],["3.44.13.002/00000001#name","3.44.13.002/00000001#uscc"],["3.44.13.002/00000001#legalRepIdNumber"],[["3.44.13.002/00000001#address","ADDRESS"],["3.44.13.002/00000001#name","NAME"]],1,["0123456789abcdef0123456789abcdef"],["fedcba9876543210fedcba9876543210"],"PARTIAL",["FORBIDDEN"],"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef"]`);
  });
});

describe('canonicalRecordText, made in pieces (format 3)', () => {
  // Format 3 is format 2 with another tag and the row set after prev_hash: format 2's one
  // JSON.stringify of the whole array is the oracle for the pieces format 3 is made of.
  const viaFormat2 = (r: Parameters<typeof canonicalRecordText>[0]) => {
    const v2 = canonicalRecordText(r, 2);
    const rowSet = JSON.stringify([r.rowSet ?? null]).slice(1, -1).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return `["hz-access-record/3"${v2.slice('["hz-access-record/2"'.length, -1)},${rowSet}]`;
  };
  const frozenPlan = () => {
    const plan = {
      grantIds: Object.freeze([3, 11]),
      datasets: Object.freeze(['3.44.13.002/00000001']),
      fieldsReturned: Object.freeze(['3.44.13.002/00000001#name', '3.44.13.002/00000001#uscc']),
      fieldsDenied: Object.freeze(['3.44.13.002/00000001#法人']),
      masking: Object.freeze({ 'b#x': 'NAME', 'a#y': 'ID_NUMBER' }),
    };
    return plan as unknown as Pick<ReturnType<typeof record>, 'grantIds' | 'datasets' | 'fieldsReturned' | 'fieldsDenied' | 'masking'>;
  };

  it('gives the text of one JSON.stringify, for shared (frozen) plan lists too, the first time and every time after', () => {
    const plan = frozenPlan();
    const r = { ...record(1), ...plan, purposeText: '基准测试：企业登记信息核验', seq: 9n, prevHash: GENESIS_HASH };
    for (let i = 0; i < 3; i++) expect(canonicalRecordText(r)).toBe(viaFormat2(r));
    // Another plan with the same grant list object but other lists is not taken for the first.
    const other = { ...r, fieldsReturned: Object.freeze(['x#y']) as unknown as string[] };
    expect(canonicalRecordText(other)).toBe(viaFormat2(other));
    expect(canonicalRecordText(other)).not.toBe(canonicalRecordText(r));
    expect(canonicalRecordText(r)).toBe(viaFormat2(r));
  });

  it('gives the text of one JSON.stringify for random records, odd values of a tampered row included', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const texts = ['', 'a', '王', '😀', '\u2028', '"q"', '\\', '\n', 'é', '\u0001', 'x'.repeat(40)];
    const text = () => Array.from({ length: rnd(4) }, () => texts[rnd(texts.length)]).join('');
    const odd = [null, undefined, 0, -1.5, true, 'str', [1, '王'], { k: '值' }];
    const any = () => (rnd(4) === 0 ? odd[rnd(odd.length)] : text());
    const list = () => {
      const l = Array.from({ length: rnd(4) }, () => (rnd(5) === 0 ? odd[rnd(odd.length)] : text()));
      return rnd(3) === 0 ? Object.freeze(l) : l;
    };
    for (let i = 0; i < 2000; i++) {
      const masking: Record<string, unknown> = {};
      for (let j = rnd(4); j > 0; j--) masking[text()] = rnd(4) === 0 ? odd[rnd(odd.length)] : text();
      const r = {
        ...record(1),
        seq: BigInt(rnd(1_000_000)),
        at: new Date(rnd(2_000_000_000) * 1000),
        requestId: any(),
        agency: any(),
        subject: any(),
        purposeCode: any(),
        purposeText: any(),
        operationType: any(),
        operationName: any(),
        operationHash: any(),
        grantIds: list(),
        datasets: list(),
        fieldsReturned: list(),
        fieldsDenied: list(),
        masking: rnd(5) === 0 ? odd[rnd(odd.length)] : rnd(2) ? Object.freeze(masking) : masking,
        rowCount: rnd(3) === 0 ? odd[rnd(odd.length)] : rnd(1000),
        rowKeyHashes: list(),
        subjectHashes: list(),
        rowSet: rnd(3) === 0 ? 'ef'.repeat(32) : rnd(2) ? null : any(),
        outcome: any(),
        errorCodes: list(),
        prevHash: any(),
      } as unknown as Parameters<typeof canonicalRecordText>[0];
      const made = canonicalRecordText(r);
      expect(made).toBe(viaFormat2(r));
      expect(made).toMatch(/^[\x00-\x7f]*$/);
    }
  });
});

describe('canonicalRecordText formats', () => {
  const unicode = { ...record(1), subject: '王小明 😀', seq: 7n, prevHash: GENESIS_HASH };

  it('format 2 is ASCII only and says exactly what format 1 says', () => {
    const v1 = canonicalRecordText(unicode, 1);
    const v2 = canonicalRecordText(unicode, 2);
    expect(v1).toContain('企业开办审批');
    expect(v2).toMatch(/^[\x00-\x7f]*$/);
    expect(v2).toContain('\\u4f01\\u4e1a'); // 企业
    const [tag1, ...rest1] = JSON.parse(v1) as unknown[];
    const [tag2, ...rest2] = JSON.parse(v2) as unknown[];
    expect([tag1, tag2]).toEqual(['hz-access-record/1', 'hz-access-record/2']);
    expect(rest2).toEqual(rest1);
    expect(rest2[4]).toBe('王小明 😀');
  });

  it('format 3 (written now) is format 2 with its tag and the row set after prev_hash', () => {
    const v2 = JSON.parse(canonicalRecordText(unicode, 2)) as unknown[];
    const digest = 'ab'.repeat(32);
    for (const rowSet of [null, digest]) {
      const v3 = canonicalRecordText({ ...unicode, rowSet }, 3);
      expect(canonicalRecordText({ ...unicode, rowSet })).toBe(v3);
      expect(v3).toMatch(/^[\x00-\x7f]*$/);
      expect(JSON.parse(v3)).toEqual(['hz-access-record/3', ...v2.slice(1), rowSet]);
    }
    expect(canonicalRecordText({ ...unicode, rowSet: digest })).not.toBe(canonicalRecordText({ ...unicode, rowSet: 'cd'.repeat(32) }));
  });

  it('an ASCII record differs between the formats only in its tag', () => {
    const ascii = { ...unicode, subject: 'officer-1', purposeText: 'licensing check' };
    expect(canonicalRecordText(ascii, 2)).toBe(canonicalRecordText(ascii, 1).replace('hz-access-record/1', 'hz-access-record/2'));
  });
});

/**
 * Records 1..n as the writer wrote them before format 2: hashed over their format-1 text, inserted
 * directly (an upgraded database holds such a chain), with the head moved to the last.
 */
async function insertFormat1Chain(sql: Sql, n: number): Promise<void> {
  let prevHash = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const r = { ...record(i), seq: BigInt(i), prevHash };
    const hash = keys.chainHash(canonicalRecordText(r, 1));
    await sql`
      INSERT INTO access_record (seq, at, request_id, agency, subject, purpose_code, purpose_text, operation_type, operation_name,
                                 operation_hash, grant_ids, datasets, fields_returned, fields_denied, masking, row_count,
                                 row_key_hashes, subject_hashes, outcome, error_codes, prev_hash, hash)
      VALUES (${i}, ${r.at.toISOString()}::timestamptz, ${r.requestId}, ${r.agency}, ${r.subject}, ${r.purposeCode}, ${r.purposeText}, ${r.operationType},
              ${r.operationName}, ${r.operationHash}, ${r.grantIds}::integer[], ${r.datasets}::text[], ${r.fieldsReturned}::text[],
              ${r.fieldsDenied}::text[], ${sql.json(r.masking)}, ${r.rowCount}, ${r.rowKeyHashes}::text[], ${r.subjectHashes}::text[],
              ${r.outcome}::"AccessOutcome", ${r.errorCodes}::text[], ${prevHash}, ${hash})`;
    prevHash = hash;
  }
  await sql`UPDATE access_chain_head SET seq = ${n}, hash = ${prevHash} WHERE id = 1`;
}

describe('a chain begun in format 1', () => {
  it('verifies, and the writer extends it in format 3', () =>
    withDb(async (db) => {
      await insertFormat1Chain(db.sql, 12);
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 12 });
      const writer = createAccessRecordWriter(db.sql, keys, silent);
      await Promise.all([20, 21, 22].map((i) => writer.append(record(i))));
      await writer.close();
      expect(await verifyAccessChain(db.sql, keys, { pageSize: 5 })).toEqual({ ok: true, checked: 15 });
      // The new records were hashed over their format-3 text.
      const stored = await db.sql<{ seq: string; prev_hash: string; hash: string }[]>`
        SELECT seq::text AS seq, prev_hash, hash FROM access_record WHERE seq >= 13 ORDER BY seq`;
      expect(stored.map((r) => r.seq)).toEqual(['13', '14', '15']);
      stored.forEach((r, k) => {
        const hashed = { ...record(20 + k), seq: BigInt(r.seq), prevHash: r.prev_hash };
        expect(r.hash).toBe(keys.chainHash(canonicalRecordText(hashed, 3)));
      });
      expect(stored[0].hash).not.toBe(keys.chainHash(canonicalRecordText({ ...record(20), seq: 13n, prevHash: stored[0].prev_hash }, 1)));
    }));

  it('texts outside ASCII (emoji, U+2028, Latin-1, CJK) are stored as given and verify, on both ways of writing', () =>
    withDb(async (db) => {
      const texts = ['办理 😀 e\u0301 é ß \u2028 line\u2029', 'ÿ\u0080\u00a0 \uffff 𠀋 \\u4e2d "quoted"'];
      const writer = createAccessRecordWriter(db.sql, keys, silent);
      // The first batch goes the locking way (the head is not known yet), the second in one statement.
      await writer.append(record(1, { purposeText: texts[0], subject: texts[1] }));
      await writer.append(record(2, { purposeText: texts[1], subject: texts[0], masking: { 'ds#名称': 'NAME' } }));
      await writer.close();
      const rows = await db.sql<{ purpose_text: string; subject: string; masking: Record<string, string> }[]>`
        SELECT purpose_text, subject, masking FROM access_record ORDER BY seq`;
      expect(rows.map((r) => [r.purpose_text, r.subject])).toEqual([texts, [texts[1], texts[0]]]);
      expect(rows[1].masking).toEqual({ 'ds#名称': 'NAME' });
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 2 });
    }));

  it('an edited format-1 record is found', () =>
    withDb(async (db) => {
      await insertFormat1Chain(db.sql, 12);
      await db.sql`ALTER TABLE access_record DISABLE TRIGGER USER`;
      await db.sql`UPDATE access_record SET purpose_text = purpose_text || '.' WHERE seq = 5`;
      expect((await verifyAccessChain(db.sql, keys)).problem).toMatchObject({ seq: '5', kind: 'altered' });
    }));
});

describe('createAccessRecordWriter', () => {
  it('writes 100 concurrent appends in one transaction as seq 1..100 of a valid chain', () =>
    withDb(async (db) => {
      const { sql, transactions } = countingSql(db.url);
      try {
        const writer = createAccessRecordWriter(sql, keys, silent);
        await Promise.all(Array.from({ length: 100 }, (_, i) => writer.append(record(i))));
        expect(transactions()).toBe(1);
        const rows = await db.sql<{ seq: string; request_id: string; prev_hash: string; hash: string }[]>`
          SELECT seq::text AS seq, request_id, prev_hash, hash FROM access_record ORDER BY access_record.seq`;
        expect(rows.map((r) => r.seq)).toEqual(range(1, 100));
        expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 100 }, (_, i) => `req-${i}`));
        expect(rows[0].prev_hash).toBe(GENESIS_HASH);
        for (let k = 1; k < rows.length; k++) expect(rows[k].prev_hash).toBe(rows[k - 1].hash);
        const [head] = await db.sql`SELECT seq::text AS seq, hash FROM access_chain_head WHERE id = 1`;
        expect(head).toEqual({ seq: '100', hash: rows[99].hash });
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 100 });
        // Small pages read the same chain.
        expect(await verifyAccessChain(db.sql, keys, { pageSize: 7 })).toEqual({ ok: true, checked: 100 });
        await writer.close();
      } finally {
        await sql.end();
      }
    }));

  it('stores every field so that it reads back as written', () =>
    withDb(async (db) => {
      await writeChain(db.sql, 4);
      const [r] = await db.sql`
        SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at, purpose_text, grant_ids, masking, outcome::text AS outcome, subject_hashes
          FROM access_record WHERE seq = 2`;
      const input = record(1);
      expect(r).toEqual({
        at: '2026-11-27T04:00:00.007000',
        purpose_text: input.purposeText,
        grant_ids: input.grantIds,
        masking: input.masking,
        outcome: 'PARTIAL',
        subject_hashes: input.subjectHashes,
      });
    }));

  it('stores a large page of keyed hashes out of line, uncompressed (hex does not compress), and reads it back', () =>
    withDb(async (db) => {
      const storage = await db.sql`
        SELECT attname, attstorage FROM pg_attribute
         WHERE attrelid = 'access_record'::regclass AND attname IN ('row_key_hashes', 'subject_hashes') ORDER BY attname`;
      expect(storage.map((c) => [c.attname, c.attstorage])).toEqual([
        ['row_key_hashes', 'e'],
        ['subject_hashes', 'e'],
      ]);
      const sql = createSql(db.url, { max: 2 });
      try {
        const writer = createAccessRecordWriter(sql, keys, silent);
        const rowKeyHashes = Array.from({ length: 300 }, (_, i) => keys.dataHash(`3.44.13.002/00000002\u001fJY${i}`));
        await writer.append(record(0, { rowKeyHashes, rowCount: 300 }));
        await writer.close();
        const [r] = await db.sql`SELECT row_key_hashes, pg_column_size(row_key_hashes) AS size FROM access_record WHERE seq = 1`;
        expect(r.row_key_hashes).toEqual(rowKeyHashes);
        // Uncompressed: 300 × 32 hex digits and their array overhead.
        expect(r.size).toBeGreaterThan(300 * 32);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 1 });
      } finally {
        await sql.end();
      }
    }));

  it('takes at most maxBatch records per transaction', () =>
    withDb(async (db) => {
      const { sql, transactions } = countingSql(db.url);
      try {
        const writer = createAccessRecordWriter(sql, keys, silent, { maxBatch: 30 });
        await Promise.all(Array.from({ length: 100 }, (_, i) => writer.append(record(i))));
        expect(transactions()).toBe(4);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 100 });
      } finally {
        await sql.end();
      }
    }));

  it('queues appends made while a flush runs for the next flush', () =>
    withDb(async (db) => {
      const { sql, transactions } = countingSql(db.url);
      try {
        const writer = createAccessRecordWriter(sql, keys, silent);
        // Another "process" holds the head: the writer's first flush waits on the row lock.
        const holder = await holdHead(db.sql);
        const first = writer.append(record(0));
        await waitFor(async () => (await lockWaits(db.sql)) === 1);
        const later = [writer.append(record(1)), writer.append(record(2)), writer.append(record(3))];
        await holder.release();
        await Promise.all([first, ...later]);
        expect(transactions()).toBe(2);
        expect(await storedSeqs(db.sql)).toEqual(range(1, 4));
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 4 });
      } finally {
        await sql.end();
      }
    }));

  it('writes after its own last batch in one statement, and after the real head when another process moved it', () =>
    withDb(async (db) => {
      const a = countingSql(db.url);
      const b = createSql(db.url, { max: 2 });
      try {
        const wa = createAccessRecordWriter(a.sql, keys, silent);
        const wb = createAccessRecordWriter(b, keys, silent);
        await wa.append(record(0, { requestId: 'a-0' })); // no head known yet: the locking way
        await wa.append(record(1, { requestId: 'a-1' })); // after its own head: one statement
        expect(a.transactions()).toBe(2);
        await wb.append(record(2, { requestId: 'b-2' })); // the head moves under A's feet
        await wa.append(record(3, { requestId: 'a-3' })); // A's statement matches nothing, then locks
        expect(a.transactions()).toBe(4);
        await wa.append(record(4, { requestId: 'a-4' }));
        expect(a.transactions()).toBe(5);
        const ids = (await db.sql<{ request_id: string }[]>`SELECT request_id FROM access_record ORDER BY seq`).map((r) => r.request_id);
        expect(ids).toEqual(['a-0', 'a-1', 'b-2', 'a-3', 'a-4']);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 5 });
      } finally {
        await Promise.all([a.sql.end(), b.end()]);
      }
    }));

  it('sends the next batch while one is in flight, and writes both again in order when the head moved under them', () =>
    withDb(async (db) => {
      const a = await pipelinedWriter(db);
      const b = createSql(db.url, { max: 1 });
      try {
        const wb = createAccessRecordWriter(b, keys, silent);
        // A third session holds the head; B's append queues for it first, then A's batches.
        const holder = await holdHead(db.sql);
        const bDone = wb.append(record(2, { requestId: 'b-2' }));
        await waitFor(async () => (await lockWaits(db.sql)) === 1);
        const inFlight = await twoBatchesInFlight(
          db,
          a,
          () => a.writer.append(record(3, { requestId: 'a-3' })),
          () => Promise.all([a.writer.append(record(4, { requestId: 'a-4' })), a.writer.append(record(5, { requestId: 'a-5' }))]),
          { holder, lockWaitsBefore: 1 },
        );
        await holder.release();
        // B moved the head first: neither of A's batches matched it, and both were written
        // again after B's record, in the order they were appended, in one locked transaction.
        await Promise.all([bDone, inFlight.first, inFlight.second]);
        expect(a.statements()).toBe(5);
        expect(await storedRequestIds(db.sql)).toEqual(['a-0', 'a-1', 'b-2', 'a-3', 'a-4', 'a-5']);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 6 });
        // And A goes on in one statement after its own head.
        await a.writer.append(record(6, { requestId: 'a-6' }));
        expect(a.statements()).toBe(6);
        await Promise.all([a.writer.close(), wb.close()]);
      } finally {
        await Promise.all([a.sql.end(), b.end()]);
      }
    }));
  it('rejects every batch in flight when its connection is lost, and writes the next append on a new one', () =>
    withDb(async (db) => {
      const a = await pipelinedWriter(db);
      try {
        // Settled as they go: the rejections come before the terminating statement returns.
        const outcome = (p: Promise<void>) => p.then(() => 'written', (err: Error) => err.message);
        const inFlight = await twoBatchesInFlight(
          db,
          a,
          () => outcome(a.writer.append(record(2, { requestId: 'a-2' }))),
          () => outcome(a.writer.append(record(3, { requestId: 'a-3' }))),
        );
        // The writer's backend (waiting for the head's lock) goes away with both batches.
        await db.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
        for (const message of await Promise.all([inFlight.first, inFlight.second])) expect(message).toMatch(/^the access record could not be written: /);
        await inFlight.holder.release();
        await a.writer.append(record(4, { requestId: 'a-4' }));
        expect(await storedRequestIds(db.sql)).toEqual(['a-0', 'a-1', 'a-4']);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 3 });
        await a.writer.close();
      } finally {
        await a.sql.end();
      }
    }));
  it('close() waits for the batches in flight and writes them', () =>
    withDb(async (db) => {
      const a = await pipelinedWriter(db);
      try {
        const inFlight = await twoBatchesInFlight(
          db,
          a,
          () => a.writer.append(record(2, { requestId: 'a-2' })),
          () => a.writer.append(record(3, { requestId: 'a-3' })),
        );
        let closed = false;
        const closing = a.writer.close().then(() => (closed = true));
        await expect(a.writer.append(record(4, { requestId: 'a-4' }))).rejects.toThrow(/writer is closed/);
        await new Promise((r) => setTimeout(r, 100));
        expect(closed).toBe(false); // both batches still wait for the head's lock
        await inFlight.holder.release();
        await closing;
        await Promise.all([inFlight.first, inFlight.second]);
        expect(await storedRequestIds(db.sql)).toEqual(['a-0', 'a-1', 'a-2', 'a-3']);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 4 });
      } finally {
        await a.sql.end();
      }
    }));
  it('when a batch in flight fails, the one sent after it is written again after the real head', () =>
    withDb(async (db) => {
      const a = await pipelinedWriter(db);
      try {
        await db.sql`ALTER TABLE access_record ADD CONSTRAINT test_no_poison CHECK (agency <> 'POISON')`;
        const inFlight = await twoBatchesInFlight(
          db,
          a,
          () => a.writer.append(record(2, { requestId: 'a-2', agency: 'POISON' })).then(() => 'written', (err: Error) => err.message),
          () => a.writer.append(record(3, { requestId: 'a-3' })),
        );
        await inFlight.holder.release();
        expect(await inFlight.first).toMatch(/could not be written: .*test_no_poison/);
        await inFlight.second; // found the head short of the failed batch: written again, the locking way
        expect(a.statements()).toBe(5);
        expect(await storedRequestIds(db.sql)).toEqual(['a-0', 'a-1', 'a-3']);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 3 });
        await a.writer.close();
      } finally {
        await a.sql.end();
      }
    }));
  it('refuses a pipeline depth outside 1..16', () => {
    for (const pipelineDepth of [0, 17, 1.5]) {
      expect(() => createAccessRecordWriter(null as never, keys, silent, { pipelineDepth })).toThrow(/pipelineDepth must be an integer from 1 to 16/);
    }
  });

  it('lets two processes (two pools) append to one chain concurrently', () =>
    withDb(async (db) => {
      const a = createSql(db.url, { max: 3 });
      const b = createSql(db.url, { max: 3 });
      try {
        // Small batches so that the two writers' transactions interleave.
        const wa = createAccessRecordWriter(a, keys, silent, { maxBatch: 7 });
        const wb = createAccessRecordWriter(b, keys, silent, { maxBatch: 7 });
        const appends: Promise<void>[] = [];
        for (let i = 0; i < 50; i++) {
          appends.push(wa.append(record(i, { requestId: `a-${i}` })), wb.append(record(i, { requestId: `b-${i}` })));
          if (i % 10 === 9) await new Promise((r) => setImmediate(r));
        }
        await Promise.all(appends);
        await Promise.all([wa.close(), wb.close()]);
        expect(await storedSeqs(db.sql)).toEqual(range(1, 100));
        const ids = (await db.sql<{ request_id: string }[]>`SELECT request_id FROM access_record ORDER BY seq`).map((r) => r.request_id);
        expect(ids.filter((x) => x.startsWith('a-'))).toEqual(Array.from({ length: 50 }, (_, i) => `a-${i}`));
        expect(ids.filter((x) => x.startsWith('b-'))).toEqual(Array.from({ length: 50 }, (_, i) => `b-${i}`));
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 100 });
      } finally {
        await Promise.all([a.end(), b.end()]);
      }
    }));

  it('refuses an invalid record at once, alone, and writes the others', () =>
    withDb(async (db) => {
      const badFrozen = Object.freeze(['3.44.13.002/00000001#name', 'x\0']) as unknown as string[];
      const goodFrozen = Object.freeze(['3.44.13.002/00000001#name']) as unknown as string[];
      const goodMasking = Object.freeze({ '3.44.13.002/00000001#name': 'NAME' });
      const badMasking = Object.freeze({ '3.44.13.002/00000001#name': 'NA\uD800ME' });
      const textsFrozen = Object.freeze(['E1']) as unknown as string[];
      const writer = createAccessRecordWriter(db.sql, keys, silent);
      const results = await Promise.allSettled([
        writer.append(record(0)),
        writer.append(record(1, { purposeText: 'a\0b' })),
        writer.append(record(2, { operationName: 'x\uD800' })),
        writer.append(record(3, { rowCount: 1.5 })),
        writer.append(record(4, { outcome: 'MAYBE' as never })),
        writer.append(record(5, { at: new Date(NaN) })),
        writer.append(record(6)),
        writer.append(record(7, { fieldsReturned: ['3.44.13.002/00000001#name', 'x\uDC00'] })),
        // Two halves of a surrogate pair in neighbouring elements are two lone surrogates.
        writer.append(record(8, { subjectHashes: ['a\uD800', '\uDC00b'] })),
        writer.append(record(9, { rowKeyHashes: ['ok', 7 as never] })),
        writer.append(record(10, { datasets: ['3.44.13.002/00000001', 'x\0'] })),
        // A pair within one element is a character like any other.
        writer.append(record(11, { errorCodes: ['E 😀'] })),
        // Frozen lists (a compiled plan's, shared by its records) are checked once when good,
        // and a bad one is refused every time it comes.
        writer.append(record(12, { fieldsDenied: badFrozen })),
        writer.append(record(13, { fieldsDenied: badFrozen })),
        writer.append(record(14, { fieldsDenied: goodFrozen, masking: goodMasking })),
        writer.append(record(15, { fieldsDenied: goodFrozen, masking: goodMasking })),
        writer.append(record(16, { masking: badMasking })),
        writer.append(record(17, { masking: badMasking })),
        // A frozen list found good as texts is not taken for good grant ids.
        writer.append(record(18, { errorCodes: textsFrozen })),
        writer.append(record(19, { grantIds: textsFrozen as unknown as number[] })),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled',
        'rejected', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected',
      ]);
      expect((results[19] as PromiseRejectedResult).reason.message).toMatch(/grantIds must be an array of 32-bit integers/);
      expect((results[13] as PromiseRejectedResult).reason.message).toMatch(/fieldsDenied must be an array of strings without NUL/);
      expect((results[17] as PromiseRejectedResult).reason.message).toMatch(/masking must map strings to strings/);
      expect((results[10] as PromiseRejectedResult).reason.message).toMatch(/datasets must be an array of strings without NUL/);
      expect((results[7] as PromiseRejectedResult).reason.message).toMatch(/fieldsReturned must be an array of strings/);
      expect((results[8] as PromiseRejectedResult).reason.message).toMatch(/subjectHashes must be an array of strings/);
      expect((results[9] as PromiseRejectedResult).reason.message).toMatch(/rowKeyHashes must be an array of strings/);
      expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/invalid access record: purposeText/);
      expect((results[3] as PromiseRejectedResult).reason.message).toMatch(/rowCount/);
      expect(await storedSeqs(db.sql)).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 6 });
    }));

  it('rejects every record of a failed transaction, logs it, and leaves the chain whole', () =>
    withDb(async (db) => {
      const lines: string[] = [];
      const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
      const writer = createAccessRecordWriter(db.sql, keys, log);
      await Promise.all(Array.from({ length: 10 }, (_, i) => writer.append(record(i))));
      // A constraint the database enforces but the writer cannot foresee fails the whole batch.
      await db.sql`ALTER TABLE access_record ADD CONSTRAINT test_no_poison CHECK (agency <> 'POISON')`;
      const batch = await Promise.allSettled([writer.append(record(10)), writer.append(record(11, { agency: 'POISON' })), writer.append(record(12))]);
      expect(batch.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const r of batch) expect((r as PromiseRejectedResult).reason.message).toMatch(/could not be written: .*test_no_poison/);
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({ level: 50, msg: 'access record batch not written', records: 3, requestIds: ['req-10', 'req-11', 'req-12'] }),
      ]);
      expect(await storedSeqs(db.sql)).toEqual(range(1, 10));
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 10 });
      // The chain goes on where it stood.
      await writer.append(record(13));
      expect(await storedSeqs(db.sql)).toEqual(range(1, 11));
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 11 });
    }));

  it('rejects appends when the database refuses them, and after close()', () =>
    withDb(async (db) => {
      const pool = createSql(db.url, { max: 1 });
      const writer = createAccessRecordWriter(pool, keys, silent);
      await writer.append(record(0));
      await db.sql`ALTER TABLE access_chain_head RENAME TO access_chain_head_away`;
      try {
        await expect(writer.append(record(1))).rejects.toThrow(/could not be written/);
      } finally {
        await db.sql`ALTER TABLE access_chain_head_away RENAME TO access_chain_head`;
      }
      await pool.end();
      await writeChain(db.sql, 2);
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 3 });

      const other = createAccessRecordWriter(db.sql, keys, silent);
      const queued = other.append(record(5));
      await other.close(); // writes what is queued
      await expect(queued).resolves.toBeUndefined();
      await expect(other.append(record(6))).rejects.toThrow(/writer is closed/);
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 4 });
    }));
});

describe('indexes', () => {
  // A pending list past gin_pending_list_limit is merged by the insert that finds it so, and every
  // request waits for its record: ~500 ms stalls under load (migration 20261128060000).
  it('the GIN indexes of the record and its row sets take entries at once (fastupdate off)', () =>
    withDb(async (db) => {
      const rows = await db.sql<{ name: string; options: string[] | null }[]>`
        SELECT c.relname AS name, c.reloptions AS options
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
         WHERE i.indrelid IN ('access_record'::regclass, 'access_row_set'::regclass) AND a.amname = 'gin'
         ORDER BY 1`;
      expect(rows).toEqual([
        { name: 'access_record_datasets_idx', options: ['fastupdate=off'] },
        { name: 'access_record_subject_hashes_idx', options: ['fastupdate=off'] },
        { name: 'access_row_set_subject_hashes_idx', options: ['fastupdate=off'] },
      ]);
    }));
});

describe('append-only table', () => {
  it('refuses UPDATE, DELETE and TRUNCATE', () =>
    withDb(async (db) => {
      await writeChain(db.sql, 3);
      await expect(db.sql`UPDATE access_record SET agency = 'X' WHERE seq = 2`).rejects.toThrow('access_record is append-only: UPDATE refused');
      await expect(db.sql`DELETE FROM access_record WHERE seq = 2`).rejects.toThrow('access_record is append-only: DELETE refused');
      await expect(db.sql`TRUNCATE access_record`).rejects.toThrow('access_record is append-only: TRUNCATE refused');
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 3 });
    }));
});

/** A row set of `n` rows (key hash, and every other row a subject hash shared by pairs of rows): its record fields. */
function rowSetOf(n: number, tag = 'L'): Pick<AccessRecordInput, 'rowKeyHashes' | 'subjectHashes' | 'rowCount' | 'rowSet' | 'rowSetHashes'> & { rows: string[]; subjects: string[] } {
  const rows = Array.from({ length: n }, (_, k) => keys.dataHash(`3.44.13.002/00000002\u001f${tag}${k}`) + (k % 2 ? keys.subjectHash(`USCC-${tag}-${k >> 2}`) : ''));
  const subjects = [...new Set(rows.flatMap((h) => (h.length > 2 * DATA_HASH_BYTES ? [h.slice(2 * DATA_HASH_BYTES)] : [])))].sort();
  const joined = rows.join(',');
  return { rows, subjects, rowKeyHashes: [], subjectHashes: [], rowCount: n, rowSet: rowSetDigest(joined), rowSetHashes: joined };
}

/** A row set's record fields, without the test's own notes. */
const recordFieldsOf = ({ rows: _r, subjects: _s, ...fields }: ReturnType<typeof rowSetOf>) => fields;

/** Checks that `access_row_set` holds exactly `sets` (rows and derived subject hashes). */
async function expectStoredSets(sql: Sql, sets: ReturnType<typeof rowSetOf>[]): Promise<void> {
  const stored = await sql<{ digest: string; row_hashes: string[]; subject_hashes: string[] }[]>`
    SELECT digest, row_hashes, subject_hashes FROM access_row_set ORDER BY digest`;
  expect(stored).toEqual(
    sets.map((x) => ({ digest: x.rowSet, row_hashes: x.rows, subject_hashes: x.subjects })).sort((x, y) => (x.digest! < y.digest! ? -1 : 1)),
  );
}

describe('row sets (records of many rows)', () => {
  it('are stored once per distinct set, named by their digest, derived subject hashes sorted, and verify', () =>
    withDb(async (db) => {
      const a = rowSetOf(30, 'A');
      const b = rowSetOf(12, 'B');
      const strip = recordFieldsOf;
      const writer = createAccessRecordWriter(db.sql, keys, silent);
      // One batch naming A twice and B once (the first goes the locking way), then A again in one statement.
      await Promise.all([writer.append(record(1, strip(a))), writer.append(record(2, strip(b))), writer.append(record(3, strip(a)))]);
      await writer.append(record(4, strip(a)));
      await writer.append(record(5)); // a record of few rows keeps its hashes itself
      await writer.close();
      await expectStoredSets(db.sql, [a, b]);
      const recs = await db.sql`SELECT seq::int AS seq, row_set, row_key_hashes, subject_hashes, row_count FROM access_record ORDER BY seq`;
      expect(recs.map((r) => r.row_set)).toEqual([a.rowSet, b.rowSet, a.rowSet, a.rowSet, null]);
      expect(recs[0]).toMatchObject({ row_key_hashes: [], subject_hashes: [], row_count: 30 });
      expect(recs[4].row_key_hashes).toEqual(record(5).rowKeyHashes);
      expect(await verifyAccessChain(db.sql, keys, { pageSize: 2 })).toEqual({ ok: true, checked: 5 });
    }));

  it('new ones travel in a parameter of their own on the one-statement way, each once, and verify', () =>
    withDb(async (db) => {
      const statements: { text: string; params: unknown[] }[] = [];
      const sql = createSql(db.url, { max: 2, onQuery: (text, params) => void statements.push({ text, params }) });
      try {
        const b = rowSetOf(10, 'B');
        const c = rowSetOf(9, 'C');
        const strip = recordFieldsOf;
        const writer = createAccessRecordWriter(sql, keys, silent);
        await writer.append(record(1)); // the head is read under its lock; the next batch takes one statement
        const before = statements.length;
        await Promise.all([writer.append(record(2, strip(b))), writer.append(record(3, strip(c))), writer.append(record(4, strip(b)))]);
        await writer.close();
        const sent = statements.slice(before).filter((q) => /INSERT INTO access_record/.test(q.text));
        expect(sent).toHaveLength(1);
        expect(sent[0].text).toMatch(/^WITH moved AS/);
        // The records' text carries no hashes of a set; the sets' parameter carries B and C once each.
        expect(String(sent[0].params[0])).not.toContain(b.rows[0]);
        expect(JSON.parse(String(sent[0].params[5]))).toEqual([
          [b.rowSet, b.rowSetHashes],
          [c.rowSet, c.rowSetHashes],
        ]);
        await expectStoredSets(db.sql, [b, c]);
        expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 4 });
      } finally {
        await sql.end();
      }
    }));

  it('are append-only, and a set changed or removed by the owner is found at the first record naming it', () =>
    withDb(async (db) => {
      const a = rowSetOf(20, 'A');
      const { rows: _r, subjects: _s, ...fields } = a;
      const writer = createAccessRecordWriter(db.sql, keys, silent);
      for (let i = 1; i <= 6; i++) await writer.append(record(i, i === 4 || i === 6 ? fields : {}));
      await writer.close();
      await expect(db.sql`UPDATE access_row_set SET row_hashes = row_hashes[1:2]`).rejects.toThrow('access_row_set is append-only: UPDATE refused');
      await expect(db.sql`DELETE FROM access_row_set`).rejects.toThrow('access_row_set is append-only: DELETE refused');
      await expect(db.sql`TRUNCATE access_row_set`).rejects.toThrow('access_row_set is append-only: TRUNCATE refused');
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 6 });

      await db.sql`ALTER TABLE access_row_set DISABLE TRIGGER USER`;
      await db.sql`UPDATE access_row_set SET row_hashes = row_hashes[2:]`; // a read row taken out of the set
      expect(await verifyAccessChain(db.sql, keys)).toEqual({
        ok: false,
        checked: 3,
        problem: { seq: '4', kind: 'altered', message: `record 4: the row set it names (${a.rowSet}) was changed: its row hashes no longer give its digest` },
      });
      await db.sql`UPDATE access_row_set SET row_hashes = ${a.rows}::text[], subject_hashes = subject_hashes[2:]`; // a subject hidden from the report
      expect((await verifyAccessChain(db.sql, keys)).problem).toEqual({
        seq: '4',
        kind: 'altered',
        message: `record 4: the row set it names (${a.rowSet}) was changed: its subject hashes are not those of its row hashes`,
      });
      // Two rows merged into one element (the joined text, and so the digest, unchanged), the
      // second row's subject then left out of the subject hashes: hidden from the subject report.
      const merged = [a.rows[0], `${a.rows[1]},${a.rows[2]}`, ...a.rows.slice(3)];
      const hidden = [...new Set(merged.flatMap((h) => (/^[0-9a-f]+$/.test(h) && h.length > 32 ? [h.slice(32)] : [])))].sort();
      await db.sql`UPDATE access_row_set SET row_hashes = ${merged}::text[], subject_hashes = ${hidden}::text[]`;
      expect((await verifyAccessChain(db.sql, keys)).problem).toEqual({
        seq: '4',
        kind: 'altered',
        message: `record 4: the row set it names (${a.rowSet}) was changed: its row hashes no longer give its digest`,
      });
      // The subject hashes folded into one element (so that no subject is found by @>).
      await db.sql`UPDATE access_row_set SET row_hashes = ${a.rows}::text[], subject_hashes = ARRAY[array_to_string(${a.subjects}::text[], ',')]`;
      expect((await verifyAccessChain(db.sql, keys)).problem).toMatchObject({ seq: '4', message: expect.stringMatching(/subject hashes are not those of its row hashes/) });
      await db.sql`DELETE FROM access_row_set`;
      expect((await verifyAccessChain(db.sql, keys)).problem).toEqual({ seq: '4', kind: 'altered', message: `record 4: the row set it names (${a.rowSet}) is missing from access_row_set` });
    }));

  it('a record of an older format given a row set afterwards is found', () =>
    withDb(async (db) => {
      await insertFormat1Chain(db.sql, 5);
      const a = rowSetOf(10);
      await db.sql`INSERT INTO access_row_set (digest, row_hashes, subject_hashes) VALUES (${a.rowSet}, ${a.rows}::text[], ${a.subjects}::text[])`;
      await db.sql`ALTER TABLE access_record DISABLE TRIGGER USER`;
      await db.sql`UPDATE access_record SET row_set = ${a.rowSet} WHERE seq = 3`;
      expect((await verifyAccessChain(db.sql, keys)).problem).toMatchObject({ seq: '3', kind: 'altered' });
    }));

  it('a record with a row set must give its hashes, keep none of its own, and name a SHA-256 digest', () =>
    withDb(async (db) => {
      const a = rowSetOf(10);
      const { rows: _r, subjects: _s, ...fields } = a;
      const writer = createAccessRecordWriter(db.sql, keys, silent);
      const results = await Promise.allSettled([
        writer.append(record(1, { ...fields, rowSetHashes: undefined })),
        writer.append(record(2, { ...fields, subjectHashes: ['ab'] })),
        writer.append(record(3, { ...fields, rowSet: 'xyz' })),
        writer.append(record(4, { rowSetHashes: a.rowSetHashes })),
        writer.append(record(5, { ...fields, rowSetHashes: 42 as never })),
        writer.append(record(6, fields)),
        // Alone in their batch with record 6, each refused alone: a digest that is not the set's,
        // a NUL, an unpaired surrogate, a row cut short, an empty row.
        writer.append(record(7, { ...fields, rowSet: rowSetOf(10, 'B').rowSet })),
        writer.append(record(8, { ...fields, rowSetHashes: `${a.rowSetHashes}\u0000` })),
        writer.append(record(9, { ...fields, rowSetHashes: `${a.rowSetHashes},\uD800` })),
        writer.append(record(10, { ...fields, rowSetHashes: a.rowSetHashes!.slice(0, -1) })),
        writer.append(record(11, { ...fields, rowSetHashes: `${a.rowSetHashes},` })),
      ]);
      await writer.close();
      const hexRuns = 'rowSetHashes must be hex hashes of 32 digits, a row\'s run after run, joined with ","';
      expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message.replace(/^invalid access record: /, '') : 'ok'))).toEqual([
        'rowSetHashes must be the row hashes joined with ","',
        'a record with a rowSet keeps no rowKeyHashes or subjectHashes of its own',
        'rowSet must be null or a SHA-256 digest (64 hex digits)',
        'rowSetHashes needs a rowSet',
        'rowSetHashes must be the row hashes joined with ","',
        'ok',
        'rowSet is not the digest of rowSetHashes',
        hexRuns,
        hexRuns,
        hexRuns,
        hexRuns,
      ]);
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 1 });
      expect((await db.sql`SELECT count(*)::int AS n FROM access_row_set`)[0].n).toBe(1);
    }));

  it('a set this process saw stored but the database lost (a failover, a restore) is not named without being stored again', () =>
    withDb(async (db) => {
      const a = rowSetOf(12, 'A');
      const { rows: _r, subjects: _s, ...fields } = a;
      const writer = createAccessRecordWriter(db.sql, keys, silent);
      await writer.append(record(1, fields));
      await writer.append(record(2, fields)); // written knowing the set is stored
      // The database loses both records and the set (as a lagging standby promoted would).
      await db.sql`ALTER TABLE access_record DISABLE TRIGGER USER`;
      await db.sql`ALTER TABLE access_row_set DISABLE TRIGGER USER`;
      await db.sql`DELETE FROM access_record`;
      await db.sql`DELETE FROM access_row_set`;
      await db.sql`UPDATE access_chain_head SET seq = 0, hash = ${GENESIS_HASH}`;
      await db.sql`ALTER TABLE access_record ENABLE TRIGGER USER`;
      await db.sql`ALTER TABLE access_row_set ENABLE TRIGGER USER`;
      // The writer still believes the set stored, so this record lets its hashes go; the head has
      // moved under it, and the locking way finds the set missing: the record is refused.
      await expect(writer.append(record(3, fields))).rejects.toThrow(/row set\(s\) this process saw stored are missing from access_row_set/);
      // It forgot what it knew: the next record carries the set again.
      await writer.append(record(4, fields));
      await writer.close();
      expect((await db.sql`SELECT count(*)::int AS n FROM access_row_set`)[0].n).toBe(1);
      expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 1 });
    }));
});

describe('verifyAccessChain finds tampering', () => {
  /** A chain of 100 records, tampered with by the table owner who first disables the triggers. */
  async function tampered(tamper: (sql: Sql) => Promise<unknown>) {
    return withDb(async (db) => {
      await writeChain(db.sql, 100);
      await db.sql`ALTER TABLE access_record DISABLE TRIGGER USER`;
      await tamper(db.sql);
      return verifyAccessChain(db.sql, keys, { pageSize: 16 });
    });
  }

  it('a field of record 37 edited → altered at 37', async () => {
    const result = await tampered((sql) => sql`UPDATE access_record SET row_count = row_count + 1 WHERE seq = 37`);
    expect(result).toEqual({ ok: false, checked: 36, problem: { seq: '37', kind: 'altered', message: expect.stringMatching(/no longer matches its hash/) } });
  });

  it('an array element, the masking or the hash of a record edited → altered', async () => {
    expect((await tampered((sql) => sql`UPDATE access_record SET datasets = array_append(datasets, 'X') WHERE seq = 12`)).problem).toMatchObject({ seq: '12', kind: 'altered' });
    expect((await tampered((sql) => sql`UPDATE access_record SET masking = masking - 'a#name' WHERE seq = 14`)).problem).toMatchObject({ seq: '14', kind: 'altered' });
    expect((await tampered((sql) => sql`UPDATE access_record SET hash = repeat('a', 64) WHERE seq = 15`)).problem).toMatchObject({ seq: '15', kind: 'altered' });
  });

  it('the time of a record moved by one microsecond → altered', async () => {
    const result = await tampered((sql) => sql`UPDATE access_record SET at = at + interval '1 microsecond' WHERE seq = 50`);
    expect(result.problem).toEqual({ seq: '50', kind: 'altered', message: expect.stringMatching(/not one the writer stores/) });
  });

  it('record 37 deleted → deleted at 37', async () => {
    const result = await tampered((sql) => sql`DELETE FROM access_record WHERE seq = 37`);
    expect(result).toEqual({ ok: false, checked: 36, problem: { seq: '37', kind: 'deleted', message: 'record 37 is missing: record 38 follows record 36' } });
  });

  it('the last record deleted → deleted at 100 (the head is ahead)', async () => {
    const result = await tampered((sql) => sql`DELETE FROM access_record WHERE seq = 100`);
    expect(result).toEqual({ ok: false, checked: 99, problem: { seq: '100', kind: 'deleted', message: expect.stringMatching(/head is at record 100 but the last record is 99/) } });
  });

  it('a forged record appended as seq 101 → inserted at 101', async () => {
    const result = await tampered(
      (sql) => sql`
        INSERT INTO access_record
        SELECT 101, at, request_id, agency, subject, purpose_code, purpose_text, operation_type, operation_name, operation_hash,
               grant_ids, datasets, fields_returned, fields_denied, masking, row_count, row_key_hashes, subject_hashes,
               outcome, error_codes, hash, repeat('b', 64)
          FROM access_record WHERE seq = 100`,
    );
    expect(result).toEqual({ ok: false, checked: 100, problem: { seq: '101', kind: 'inserted', message: expect.stringMatching(/beyond the chain head/) } });
  });

  it('a forged record wedged in as 37 with the rest renumbered and the head moved → inserted at 37', async () => {
    const result = await tampered(async (sql) => {
      await sql`UPDATE access_record SET seq = seq + 1000 WHERE seq >= 37`;
      await sql`UPDATE access_record SET seq = seq - 999 WHERE seq >= 1037`;
      await sql`
        INSERT INTO access_record
        SELECT 37, at, request_id, 'HZ-FORGED', subject, purpose_code, purpose_text, operation_type, operation_name, operation_hash,
               grant_ids, datasets, fields_returned, fields_denied, masking, row_count, row_key_hashes, subject_hashes,
               outcome, error_codes, hash, repeat('c', 64)
          FROM access_record WHERE seq = 36`;
      await sql`UPDATE access_chain_head SET seq = 101`;
    });
    expect(result).toEqual({ ok: false, checked: 36, problem: { seq: '37', kind: 'inserted', message: expect.stringMatching(/next record links to record 36/) } });
  });

  it('a record below 1 → inserted', async () => {
    const result = await tampered(
      (sql) => sql`INSERT INTO access_record SELECT 0, at, request_id, agency, subject, purpose_code, purpose_text, operation_type, operation_name,
                   operation_hash, grant_ids, datasets, fields_returned, fields_denied, masking, row_count, row_key_hashes, subject_hashes,
                   outcome, error_codes, prev_hash, hash FROM access_record WHERE seq = 1`,
    );
    expect(result.problem).toMatchObject({ seq: '0', kind: 'inserted' });
  });

  it('the chain head changed → altered', async () => {
    const result = await tampered((sql) => sql`UPDATE access_chain_head SET hash = repeat('d', 64)`);
    expect(result).toEqual({ ok: false, checked: 100, problem: { seq: '100', kind: 'altered', message: expect.stringMatching(/head's hash/) } });
  });

  it('another key → record 1 fails', () =>
    withDb(async (db) => {
      await writeChain(db.sql, 3);
      expect((await verifyAccessChain(db.sql, createAuditKeys(randomBytes(32)))).problem).toMatchObject({ seq: '1', kind: 'altered' });
    }));

  it('an empty chain is intact', () => withDb(async (db) => expect(await verifyAccessChain(db.sql, keys)).toEqual({ ok: true, checked: 0 })));
});

describe('npm run audit:verify', () => {
  function runCli(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|AUDIT_|GATEWAY_MODE|LOG_LEVEL)/.test(k)));
    return new Promise((resolve) => {
      execFile(TSX, ['src/cli/auditVerify.ts'], { cwd: ROOT, env: { ...base, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  }

  it('exits 0 on an intact chain, 1 naming the seq after tampering, 2 without a database', () =>
    withDb(async (db) => {
      await writeChain(db.sql, 100);
      const key = MASTER.toString('base64');
      const ok = await runCli({ DATABASE_URL: db.url, AUDIT_HASH_KEY: key });
      expect(ok).toMatchObject({ code: 0, stdout: 'access record chain intact: 100 records\n' });

      await db.sql`ALTER TABLE access_record DISABLE TRIGGER USER`;
      await db.sql`UPDATE access_record SET subject = 'someone-else' WHERE seq = 42`;
      const bad = await runCli({ DATABASE_URL: db.url, AUDIT_HASH_KEY: key });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^seq 42: altered — record 42 was changed/m);

      const noDb = await runCli({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', AUDIT_HASH_KEY: key });
      expect(noDb.code).toBe(2);
      expect(noDb.stderr).toMatch(/^cannot verify the access record: database: /m);
    }));

  it('exits 1 naming a deleted record, and one inserted beyond the head', () =>
    withDb(async (db) => {
      await writeChain(db.sql, 60);
      const key = MASTER.toString('base64');
      await db.sql`ALTER TABLE access_record DISABLE TRIGGER USER`;
      await db.sql`
        INSERT INTO access_record
        SELECT 61, at, request_id, agency, subject, purpose_code, purpose_text, operation_type, operation_name, operation_hash,
               grant_ids, datasets, fields_returned, fields_denied, masking, row_count, row_key_hashes, subject_hashes,
               outcome, error_codes, hash, repeat('b', 64)
          FROM access_record WHERE seq = 60`;
      const inserted = await runCli({ DATABASE_URL: db.url, AUDIT_HASH_KEY: key });
      expect(inserted.code).toBe(1);
      expect(inserted.stderr).toMatch(/^seq 61: inserted — record 61 lies beyond the chain head \(seq 60\)/m);
      await db.sql`DELETE FROM access_record WHERE seq = 30`;
      const deleted = await runCli({ DATABASE_URL: db.url, AUDIT_HASH_KEY: key });
      expect(deleted.code).toBe(1);
      expect(deleted.stderr).toMatch(/^seq 30: deleted — record 30 is missing: record 31 follows record 29/m);
    }));
});

describe('subjectHash', () => {
  it('equals the (truncated) HMAC PostgreSQL computes with the pads, and the standard HMAC', () =>
    withDb(async (db) => {
      const { inner, outer } = keys.dataPads;
      for (const v of ['11010519491231002x', ' 11010519491231002X ', '441302199001011234']) {
        const [{ h }] = await db.sql`
          SELECT encode(sha256(${outer}::bytea || sha256(${inner}::bytea || convert_to(upper(btrim(${v}::text)), 'UTF8'))), 'hex') AS h`;
        // The stored hash is the HMAC's first DATA_HASH_BYTES bytes.
        expect(keys.subjectHash(v)).toBe(h.slice(0, 2 * DATA_HASH_BYTES));
        expect(h.slice(0, 2 * DATA_HASH_BYTES)).toHaveLength(32);
      }
      expect(keys.subjectHash('11010519491231002x')).toBe(keys.subjectHash('11010519491231002X'));
    }));
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
