// Prints one "# shape:" line: size of a Q1 reply and size, enterprises and nested licences of a
// Q2 reply (district 海淀区) from the gateway, to compare with the references' shape.
// usage: node shape.mjs URL Q1_FILE Q2_FILE
import { readFileSync } from 'node:fs';
import { enterpriseUscc } from './uscc.mjs';

const [url, q1, q2] = process.argv.slice(2);
const ask = async (file, substitutions) => {
  let body = readFileSync(file, 'utf8');
  for (const [k, v] of Object.entries(substitutions)) body = body.replaceAll(k, v);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  return { bytes: Buffer.byteLength(text), json: JSON.parse(text) };
};
const a = await ask(q1, { '{{uscc}}': enterpriseUscc(Math.min(123457, Number(process.env.BENCH_ENTERPRISES || 1e6))) });
const b = await ask(q2, { '{{district}}': '海淀区' });
const nodes = b.json.data?.enterprises?.nodes ?? [];
const licences = nodes.reduce((s, n) => s + (n.licenses?.length ?? 0), 0);
console.log(
  `# shape: Q1 ${a.bytes} bytes${a.json.errors ? ' WITH ERRORS' : ''}; ` +
    `Q2 (海淀区) ${b.bytes} bytes, ${nodes.length} enterprises, ${licences} licences${b.json.errors ? ' WITH ERRORS' : ''}`,
);
