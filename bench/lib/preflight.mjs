// The shared harness's lib/preflight.mjs (../shared/bench/lib/preflight.mjs) with the gateway's
// key scheme: one request built like lib/gateway.lua does (same bearer token); exit 1 unless the
// reply is HTTP 200 with `data`, no `errors` at all, no null root field and no empty `nodes`
// list, so a run never measures fast error replies. With the access path on, a field outside the
// grant comes back as null with a FORBIDDEN error, a missing grant or purpose as an error, a
// missing or bad token as 401, the rate limit as 429: each fails here. Masked values are fine.
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
const problems = [];
if (res.status !== 200) problems.push(`HTTP ${res.status}`);
if (!json?.data) problems.push('no data');
if (json?.errors) {
  const list = Array.isArray(json.errors) ? json.errors : [json.errors];
  problems.push(`${list.length} error(s): ${list.slice(0, 3).map((e) => `[${e.extensions?.code ?? '?'}${e.path ? ` at ${e.path.join('.')}` : ''}] ${e.message}`).join(' | ')}`);
}
for (const [k, v] of Object.entries(json?.data ?? {})) {
  if (v === null) problems.push(`${k} is null`);
  else if (Array.isArray(v?.nodes) && v.nodes.length === 0) problems.push(`${k}.nodes is empty`);
}
if (problems.length) {
  console.error(`preflight FAILED: ${problems.join('; ')}; reply: ${text.slice(0, 500)}`);
  process.exit(1);
}
console.log(`preflight ok: HTTP 200, ${Buffer.byteLength(text)} bytes`);
