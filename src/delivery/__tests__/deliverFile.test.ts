import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { useTestDatabase } from '../../__testUtils__/testDatabase';
import { deliverFile, type DeliveryMeta, type DeliveryResult, type DeliveryTarget } from '../deliverRows';
import { handleDeliveryUpload } from '../handleDeliveryUpload';
import {
  breakCheckChar,
  FIELD_NAMES,
  licence,
  licences,
  resetLicences,
  rowCount,
  setUpLicenceDataset,
  tableSnapshot,
  toCsv,
  toNdjson,
  validIdNumber,
} from './deliveryFixture';

const csvMeta: DeliveryMeta = { deliveredBy: 'HZ-SCJGJ/bob', channel: 'CSV' };
const ndjsonMeta: DeliveryMeta = { deliveredBy: 'HZ-SCJGJ/bob', channel: 'NDJSON' };
const opts = { maxReportedProblems: 50, maxBytes: 10 * 1024 * 1024 };

/** The bytes in pieces of `size`, so rows, quoted values and UTF-8 characters straddle chunks. */
function chunked(data: string | Buffer, size = 7): Readable {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return Readable.from(pieces);
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

describe('deliverFile', () => {
  const db = useTestDatabase();
  let target: DeliveryTarget;

  beforeAll(async () => {
    target = await setUpLicenceDataset(db.sql);
  });
  beforeEach(async () => {
    await resetLicences(db.sql, target);
  });

  describe('CSV', () => {
    it('accepts a valid file, records the sha256 of its bytes and upserts on redelivery', async () => {
      const first = toCsv(licences(0, 500));
      const r1 = await deliverFile(db.sql, target, csvMeta, chunked(first, 1000), opts);
      expect(r1).toMatchObject({ status: 'ACCEPTED', rowCount: 500, inserted: 500, updated: 0, checksum: sha256(first) });

      const second = toCsv(licences(400, 200, 2));
      const r2 = await deliverFile(db.sql, target, csvMeta, chunked(second, 1000), opts);
      expect(r2).toMatchObject({ status: 'ACCEPTED', rowCount: 200, inserted: 100, updated: 100, checksum: sha256(second) });
      expect(await rowCount(db.sql)).toBe(600);
      const [delivery] = await db.sql`SELECT channel, delivered_by, checksum, row_count FROM delivery WHERE id = ${r2.deliveryId}`;
      expect(delivery).toEqual({ channel: 'CSV', delivered_by: 'HZ-SCJGJ/bob', checksum: sha256(second), row_count: 200 });
    });

    it('reads RFC 4180 quoting, CRLF line ends and a BOM, keeping values exactly', async () => {
      const tricky = [
        { ...licence(1), name: 'Comma, Quote "Q" and\ttab' },
        { ...licence(2), name: 'Two\r\nlines' },
        { ...licence(3), name: 'back\\slash \\N' },
        { ...licence(4), name: '"' },
      ];
      const file = `\uFEFF${toCsv(tricky, '\r\n')}`;
      const result = await deliverFile(db.sql, target, csvMeta, chunked(file), opts);
      expect(result).toMatchObject({ status: 'ACCEPTED', rowCount: 4 });
      const rows = await db.sql<{ name: string }[]>`SELECT name FROM ds.test_licence ORDER BY uscc`;
      expect(rows.map((r) => r.name).sort()).toEqual(tricky.map((r) => r.name).sort());
    });

    it('reports a bad row with its row number and the line where it starts', async () => {
      const records = licences(0, 10);
      records[1] = { ...records[1], name: 'spans\nthree\nlines' };
      records[5] = { ...records[5], holderIdNumber: breakCheckChar(validIdNumber(5)) };
      const result = await deliverFile(db.sql, target, csvMeta, chunked(toCsv(records)), opts);
      expect(result).toMatchObject({ status: 'REJECTED', rowCount: 10, problemCount: 1 });
      // Header is line 1; row 2 spans lines 3-5; so row 6 is on line 9.
      expect(result.problems).toEqual([{ row: 6, line: 9, field: 'holderIdNumber', reason: expect.stringContaining('check digit') }]);
      expect(result.problems[0].reason).not.toContain(String(records[5].holderIdNumber));
      expect(await rowCount(db.sql)).toBe(0);
    });

    it('keeps file order and line numbers when quoted and plain rows interleave', async () => {
      const records = licences(0, 3000).map((r, i) => (i % 3 === 0 ? { ...r, name: `第${i}号, "分公司"\n二楼` } : r));
      records[2500] = { ...records[2500], staffCount: 'x' };
      // Rows 1..2500 hold 834 names spanning two lines before row 2501.
      const result = await deliverFile(db.sql, target, csvMeta, chunked(toCsv(records), 4096), opts);
      expect(result.problems).toEqual([{ row: 2501, line: 2501 + 1 + 834, field: 'staffCount', reason: 'expected an integer' }]);

      records[2500].staffCount = 1;
      const accepted = await deliverFile(db.sql, target, csvMeta, chunked(toCsv(records), 4096), opts);
      expect(accepted).toMatchObject({ status: 'ACCEPTED', inserted: 3000 });
      const stored = await db.sql<{ uscc: string; name: string }[]>`SELECT uscc, name FROM ds.test_licence`;
      const byKey = new Map(stored.map((r) => [r.uscc, r.name]));
      for (const r of records) expect(byKey.get(r.uscc)).toBe(r.name);
    });

    it('reports the line of a misplaced quote', async () => {
      const records = licences(0, 6);
      records[0] = { ...records[0], name: 'quoted, first' };
      const lines = toCsv(records).split('\n');
      lines[4] = lines[4].replace(/^([^,]*),/, '$1,ab"c ');
      const result = await deliverFile(db.sql, target, csvMeta, chunked(lines.join('\n')), opts);
      expect(result).toMatchObject({ status: 'REJECTED', problemCount: 1 });
      expect(result.problems[0]).toMatchObject({ row: 0, line: 5, reason: expect.stringMatching(/^not valid CSV: a quote appears inside an unquoted value/) });
    });

    it('reports header problems once, not on every row', async () => {
      const header = FIELD_NAMES.filter((f) => f !== 'name').concat('nickname');
      const lines = licences(0, 50).map((r) => header.map((f) => (f === 'nickname' ? 'x' : String(r[f] ?? ''))).join(','));
      const result = await deliverFile(db.sql, target, csvMeta, chunked(`${header.join(',')}\n${lines.join('\n')}\n`, 512), opts);
      expect(result.status).toBe('REJECTED');
      expect(result.problems).toEqual([
        { row: 0, line: 1, field: 'nickname', reason: 'unknown column' },
        { row: 0, line: 1, field: 'name', reason: 'required column missing from the header' },
      ]);
    });

    it('reports rows with the wrong number of values and skips blank lines', async () => {
      const file = toCsv(licences(0, 3)).replace(/\n$/, '\n\n\n1,2,3\n');
      const result = await deliverFile(db.sql, target, csvMeta, chunked(file), opts);
      expect(result.problems).toEqual([{ row: 4, line: 7, reason: 'row has 3 values but the header has 10 columns' }]);
    });

    it('stops at a CSV syntax error and reports its line', async () => {
      const file = `${toCsv(licences(0, 3))}${licence(3).uscc},"unterminated,1\n`;
      const result = await deliverFile(db.sql, target, csvMeta, chunked(file), opts);
      expect(result).toMatchObject({ status: 'REJECTED', problemCount: 1 });
      expect(result.problems[0]).toMatchObject({ line: 5, reason: 'not valid CSV: a quoted value is not closed' });
    });

    it('rejects an upload larger than maxBytes without reading it all', async () => {
      const body = chunked(toCsv(licences(0, 2000)), 256);
      const result = await deliverFile(db.sql, target, csvMeta, body, { ...opts, maxBytes: 1000 });
      expect(result).toMatchObject({ status: 'REJECTED', problems: [{ row: 0, reason: 'upload exceeds 1000 bytes' }] });
      expect(body.readableEnded).toBe(false);
      expect(body.destroyed).toBe(false);
      body.destroy();
    });

    it('rejects a file that is not UTF-8 (a GBK export)', async () => {
      const gbk = Buffer.concat([Buffer.from(toCsv(licences(0, 2))), Buffer.from([0xbb, 0xdd, 0xd6, 0xdd, 0x0a])]);
      const result = await deliverFile(db.sql, target, csvMeta, chunked(gbk), opts);
      expect(result.status).toBe('REJECTED');
      expect(result.problems[0].reason).toMatch(/not UTF-8/);
    });

    it('rejects a file with a header only', async () => {
      const result = await deliverFile(db.sql, target, csvMeta, chunked(`${FIELD_NAMES.join(',')}\n`), opts);
      expect(result.problems).toEqual([{ row: 0, reason: 'the delivery has no data rows' }]);
    });
  });

  describe('NDJSON', () => {
    it('accepts one object per line, ignoring blank lines', async () => {
      const file = `${toNdjson(licences(0, 3))}\n  \r\n${toNdjson([licence(3)])}`;
      const result = await deliverFile(db.sql, target, ndjsonMeta, chunked(file), opts);
      expect(result).toMatchObject({ status: 'ACCEPTED', rowCount: 4, inserted: 4, checksum: sha256(file) });
    });

    it('reports lines that are not JSON objects or hold bad values, and keeps reading', async () => {
      const file = [
        JSON.stringify(licence(0)),
        '{"uscc": "91441302', // cut short
        '',
        '[1, 2]',
        JSON.stringify({ ...licence(3), active: 'maybe' }),
        JSON.stringify(licence(4)),
      ].join('\n');
      const result = await deliverFile(db.sql, target, ndjsonMeta, chunked(file), opts);
      expect(result.status).toBe('REJECTED');
      expect(result.problems).toEqual([
        { row: 2, line: 2, reason: 'line is not valid JSON' },
        { row: 3, line: 4, reason: 'line is not a JSON object' },
        { row: 4, line: 5, field: 'active', reason: 'expected true, false, 1 or 0' },
      ]);
      expect(result.rowCount).toBe(5);
    });
  });

  describe('over HTTP (handleDeliveryUpload)', () => {
    let server: http.Server;
    let port: number;
    let maxUploadBytes = 64 * 1024 * 1024;

    beforeAll(async () => {
      server = http.createServer((req, res) => {
        handleDeliveryUpload(req, res, {
          sql: db.sql,
          target,
          meta: { deliveredBy: 'HZ-SCJGJ/carol', requestId: 'http-1' },
          limits: { maxReportedProblems: 20, maxUploadBytes },
        }).catch((err: unknown) => {
          res.statusCode = 500;
          res.end(String(err));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    function post(body: Readable | string, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
      return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/datasets/x/deliveries', headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
        });
        req.on('error', reject);
        if (typeof body === 'string') req.end(body);
        else body.pipe(req);
      });
    }

    it('streams a 100,000-row CSV upload into the dataset', async () => {
      function* rows(): Generator<string> {
        yield `${FIELD_NAMES.join(',')}\n`;
        for (let start = 0; start < 100_000; start += 1000) yield toCsv(licences(start, 1000)).replace(/^[^\n]*\n/, '');
      }
      const response = await post(Readable.from(rows()), { 'Content-Type': 'text/csv; charset=utf-8' });
      expect(response.status).toBe(201);
      expect(response.json).toMatchObject({ status: 'ACCEPTED', rowCount: 100_000, inserted: 100_000, problemCount: 0 });
      expect(await rowCount(db.sql)).toBe(100_000);
      const [delivery] = await db.sql`SELECT delivered_by, request_id, channel FROM delivery WHERE id = ${(response.json as DeliveryResult).deliveryId}`;
      expect(delivery).toEqual({ delivered_by: 'HZ-SCJGJ/carol', request_id: 'http-1', channel: 'CSV' });
    });

    it('answers 422 with the problems of a rejected upload and keeps the dataset', async () => {
      await deliverFile(db.sql, target, csvMeta, chunked(toCsv(licences(0, 10)), 4096), opts);
      const before = await tableSnapshot(db.sql);
      const records = licences(0, 10, 2);
      records[3] = { ...records[3], staffCount: 'lots' };
      const response = await post(toNdjson(records), { 'Content-Type': 'application/x-ndjson' });
      expect(response.status).toBe(422);
      expect(response.json).toMatchObject({ status: 'REJECTED', problems: [{ row: 4, line: 4, field: 'staffCount', reason: 'expected an integer' }] });
      expect(await tableSnapshot(db.sql)).toEqual(before);
    });

    it('answers 422 when a body without Content-Length grows past the limit', async () => {
      maxUploadBytes = 10_000;
      try {
        const body = Readable.from((function* () {
          yield Buffer.from(`${FIELD_NAMES.join(',')}\n`);
          for (let i = 0; i < 100; i++) yield Buffer.from(toCsv(licences(i * 10, 10)).replace(/^[^\n]*\n/, ''));
        })());
        const response = await post(body, { 'Content-Type': 'text/csv' });
        expect(response).toEqual({ status: 422, json: expect.objectContaining({ status: 'REJECTED', problems: [{ row: 0, reason: 'upload exceeds 10000 bytes' }] }) });
      } finally {
        maxUploadBytes = 64 * 1024 * 1024;
      }
      expect(await rowCount(db.sql)).toBe(0);
    });

    it('answers 415 for a media type it does not read', async () => {
      const response = await post('{}', { 'Content-Type': 'application/json' });
      expect(response.status).toBe(415);
      expect(response.json).toEqual({
        error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('text/csv, application/x-ndjson, application/jsonl') },
      });
    });

    it('answers 415 for a charset other than UTF-8', async () => {
      const response = await post('a\n', { 'Content-Type': 'text/csv; charset=GBK' });
      expect(response.status).toBe(415);
    });

    it('answers 413 when Content-Length exceeds the limit', async () => {
      const response = await new Promise<{ status: number; json: unknown }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'Content-Type': 'text/csv', 'Content-Length': String(65 * 1024 * 1024) } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.write('uscc\n');
      });
      expect(response).toEqual({ status: 413, json: { error: { code: 'PAYLOAD_TOO_LARGE', message: `upload exceeds ${64 * 1024 * 1024} bytes` } } });
    });
  });
});
