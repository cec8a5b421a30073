// The shared harness's lib/preflight.mjs (../shared/bench/lib/preflight.mjs) with the gateway's
// key scheme: one request built like lib/gateway.lua does; exit 1 unless the reply is HTTP 200
// with `data`, no `errors` and no null root field, so a run never measures fast error replies.
// usage: node preflight.mjs URL QUERY_FILE [TOKEN]
import { readFileSync } from 'node:fs';
import { enterpriseUscc } from './uscc.mjs';
const [url, file, token = process.env.BENCH_TOKEN ?? ''] = process.argv.slice(2);
const i = Math.min(123457, Number(process.env.BENCH_ENTERPRISES || 1000000));
const uscc = enterpriseUscc(i);
const body = readFileSync(file, 'utf8')
  .replaceAll('{{uscc}}', uscc).replaceAll('{{district}}', '海淀区').replaceAll('{{i}}', String(i));
const headers = { 'content-type': 'application/json', accept: 'application/json' };
if (token) headers.authorization = `Bearer ${token}`;
const res = await fetch(url, { method: 'POST', headers, body });
const text = await res.text();
let json;
try { json = JSON.parse(text); } catch { json = null; }
const ok = res.status === 200 && json && json.data && !json.errors &&
  Object.values(json.data).every((v) => v !== null);
if (!ok) {
  console.error(`preflight FAILED: HTTP ${res.status} ${text.slice(0, 500)}`);
  process.exit(1);
}
console.log(`preflight ok: HTTP 200, ${Buffer.byteLength(text)} bytes`);

