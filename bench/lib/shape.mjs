// Prints one "# shape:" line: size of a Q1 reply and size, enterprises and nested licences of a
// Q2 reply (district 海淀区) from the gateway, to compare with the references' shape, and whether
// the personal fields came back masked (access path on) or in clear (access path off).
// usage: node shape.mjs URL Q1_FILE Q2_FILE [TOKEN] [LABEL]
import { readFileSync } from 'node:fs';
import { enterpriseUscc } from './uscc.mjs';

const [url, q1, q2, token = '', label = 'gateway'] = process.argv.slice(2);
const headers = { 'content-type': 'application/json', accept: 'application/json' };
if (token) headers.authorization = `Bearer ${token}`;
const ask = async (file, substitutions) => {
  let body = readFileSync(file, 'utf8');
  for (const [k, v] of Object.entries(substitutions)) body = body.replaceAll(k, v);
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = { errors: [{ message: text.slice(0, 200) }] }; }
  return { status: res.status, bytes: Buffer.byteLength(text), json };
};
const errs = (r) => (r.json.errors ? ` WITH ERRORS (HTTP ${r.status}: ${r.json.errors.map((e) => `[${e.extensions?.code ?? '?'}] ${e.message}`).join(' | ').slice(0, 300)})` : '');
const a = await ask(q1, { '{{uscc}}': enterpriseUscc(Math.min(123457, Number(process.env.BENCH_ENTERPRISES || 1e6))) });
const b = await ask(q2, { '{{district}}': '海淀区' });
const e = a.json.data?.enterprise ?? {};
// Masked values are shown (synthetic data); clear ones only named.
const shown = (f) => (typeof e[f] !== 'string' ? `${f} ${e[f] === null ? 'null' : 'missing'}` : e[f].includes('*') ? `${f} masked "${e[f]}"` : `${f} in clear`);
const nodes = b.json.data?.enterprises?.nodes ?? [];
const licences = nodes.reduce((s, n) => s + (n.licenses?.length ?? 0), 0);
const maskedQ2 = nodes.filter((n) => typeof n.legalRepresentative === 'string' && n.legalRepresentative.includes('*')).length;
console.log(
  `# shape ${label}: Q1 ${a.bytes} bytes (${shown('legalRepresentative')}, ${shown('legalRepIdNumber')})${errs(a)}; ` +
    `Q2 (海淀区) ${b.bytes} bytes, ${nodes.length} enterprises (${maskedQ2} with masked legalRepresentative), ${licences} licences${errs(b)}`,
);
