// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package, and
// inclusive time of the functions matching an optional filter.
// usage: node bench/lib/profile-top.mjs FILE.cpuprofile [TOP=25] [INCLUSIVE_REGEX]
import { readFileSync } from 'node:fs';

const [file, topArg = '25', inclusiveRe] = process.argv.slice(2);
const top = Number(topArg);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const pkg = (url) => {
  if (!url) return '(native/V8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const s = /\/src\/(.*)$/.exec(url);
  return s ? 'src/' + s[1].split('/')[0] : url.replace(/^file:\/\//, '');
};
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${pkg(n.callFrame.url)}${n.callFrame.url && !n.callFrame.url.includes('node_modules') ? ':' + n.callFrame.url.split('/').pop() + ':' + (n.callFrame.lineNumber + 1) : ''}`;
const pct = (x) => ((100 * x) / total).toFixed(1).padStart(5) + '%';

const fnSelf = new Map();
const pkgSelf = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  fnSelf.set(label(n), (fnSelf.get(label(n)) ?? 0) + t);
  pkgSelf.set(pkg(n.callFrame.url), (pkgSelf.get(pkg(n.callFrame.url)) ?? 0) + t);
}
const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, idle ${pct(idle)}`);
console.log('\nself time by package:');
for (const [k, t] of [...pkgSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log('\nself time by function:');
for (const [k, t] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
if (inclusiveRe) {
  const re = new RegExp(inclusiveRe);
  const incl = new Map();
  for (const [id, t] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur));
      if (re.test(l) && !seen.has(l)) {
        seen.add(l);
        incl.set(l, (incl.get(l) ?? 0) + t);
      }
    }
  }
  console.log(`\ninclusive time of functions matching /${inclusiveRe}/:`);
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
}
