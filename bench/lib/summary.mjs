// Turns the raw lines of bench/run-all.sh (a results-gateway-*.txt file) into the summary tables
// of bench/README.md: medians per case × query, and each target as a ratio measured in the same pass.
// The targets are taken with the access path on (case `gateway`: token, grant, masking, access
// records, rate limit); the case `gateway-noaccess` (ACCESS_ENFORCE=false) shows what that costs.
// usage: node bench/lib/summary.mjs RESULTS_FILE [GATEWAY_CASE=gateway] [NOACCESS_CASE=gateway-noaccess]
import { readFileSync } from 'node:fs';

const [file, gatewayCase = 'gateway', noaccessCase = 'gateway-noaccess'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/lib/summary.mjs RESULTS_FILE');
  process.exit(2);
}
const TARGETS = {
  deliveryRowsPerSec: 50_000,
  q1VsFloorLean: 0.8,
  q2VsPostgraphile: 1.0,
  peakRssMb: 200,
};

const runs = []; // { case, query, pass, rps, p50, p99, n, errors, non2xx, rss, peak, cpu, host }
const deliveries = {};
const failures = [];
let pass = 0;
let accessRecords = NaN;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const p = /^# pass (\d+)/.exec(line);
  if (p) pass = Number(p[1]);
  const ar = /^# access records: (-?\d+) written/.exec(line);
  if (ar) accessRecords = Number(ar[1]);
  const failed = /^# (\S+\/q[12]\/run\d+) FAILED: (.*)$/.exec(line);
  if (failed) failures.push(`${failed[1]}: ${failed[2].slice(0, 200)}`);
  if (line.startsWith('#') || !line.trim()) continue;
  const [label, ...rest] = line.trim().split(/\s+/);
  const f = Object.fromEntries(rest.map((kv) => kv.split('=')).filter((x) => x.length === 2));
  const num = (k) => (f[k] === undefined || f[k] === 'n/a' ? NaN : parseFloat(f[k]));
  if (label.startsWith('delivery/')) {
    deliveries[label.slice('delivery/'.length)] = {
      http: f.http, rows: num('rows'), secs: num('secs'), rps: num('rows/s'),
      peak: num('peak_rss'), peakSampled: num('peak_rss_sampled'), cpuSecs: num('server_cpu_s'),
    };
    continue;
  }
  const m = /^([^/]+)\/(q[12]|[^/]+)\/(?:c\d+\/)?run\d+$/.exec(label);
  if (!m || f['req/s'] === undefined) continue;
  runs.push({
    case: m[1], query: m[2], pass, rps: num('req/s'), p50: num('p50'), p99: num('p99'), n: num('n'),
    errors: num('errors'), non2xx: num('non2xx'), rss: num('rss'), peak: num('peak_rss'),
    cpu: num('server_cpu'), host: num('host_cpu'),
  });
}

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};
const max = (xs) => Math.max(...xs.filter((x) => Number.isFinite(x)));
const min = (xs) => Math.min(...xs.filter((x) => Number.isFinite(x)));
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const mb = (x) => (Number.isFinite(x) ? `${fmt(x)} MB` : 'n/a');
const pct = (x) => (Number.isFinite(x) ? `${fmt(x)}%` : 'n/a');
const cpuPerReq = (r) => (r.cpu / 100 / r.rps) * 1e6; // µs of server CPU per request
const fmtUs = (us) => (!Number.isFinite(us) ? 'n/a' : us >= 1000 ? `${fmt(us / 1000, 2)} ms` : `${fmt(us)} µs`);

const groups = new Map();
for (const r of runs) {
  const k = `${r.case}/${r.query}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
const stat = (k) => {
  const g = groups.get(k) ?? [];
  return {
    runs: g.length,
    rps: median(g.map((r) => r.rps)),
    rpsMin: min(g.map((r) => r.rps)),
    rpsMax: max(g.map((r) => r.rps)),
    p50: median(g.map((r) => r.p50)),
    p99: median(g.map((r) => r.p99)),
    rss: max(g.map((r) => r.rss)),
    peak: max(g.map((r) => r.peak)),
    cpu: median(g.map((r) => r.cpu)),
    host: median(g.map((r) => r.host)),
    cpuPerReq: median(g.map(cpuPerReq)),
    bad: g.reduce((s, r) => s + (r.errors || 0) + (r.non2xx || 0), 0),
  };
};

const out = [];
out.push(`Results of \`${file}\` (medians over the passes; every case ran once per pass, interleaved).`, '');
out.push('| case × query | runs | req/s (median) | req/s min–max | p50 ms | p99 ms | RSS after run (max) | peak RSS | server CPU | host CPU | server CPU per request | errors+non2xx |');
out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const order = [...groups.keys()].sort((a, b) => {
  const rank = (k) => (k.startsWith(`${gatewayCase}/`) ? 0 : k.startsWith(`${noaccessCase}/`) ? 1 : 2);
  return rank(a) - rank(b) || a.split('/')[1].localeCompare(b.split('/')[1]) || a.localeCompare(b);
});
for (const k of order) {
  const s = stat(k);
  out.push(
    `| ${k.replace('/', ' / ').replace(/q([12])$/, 'Q$1')} | ${s.runs} | **${fmt(s.rps)}** | ${fmt(s.rpsMin)}–${fmt(s.rpsMax)} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | ` +
      `${mb(s.rss)} | ${mb(s.peak)} | ${pct(s.cpu)} | ${pct(s.host)} | ${fmtUs(s.cpuPerReq)} | ${s.bad} |`,
  );
}
out.push('');

/** Ratio of medians, and the median of the per-pass ratios (robust to drift between passes). */
const ratio = (q, ref, base = gatewayCase) => {
  const a = stat(`${base}/${q}`);
  const b = stat(`${ref}/${q}`);
  const perPass = [];
  for (const r of groups.get(`${base}/${q}`) ?? []) {
    const o = (groups.get(`${ref}/${q}`) ?? []).find((x) => x.pass === r.pass);
    if (o) perPass.push(r.rps / o.rps);
  }
  return { a, b, ofMedians: a.rps / b.rps, perPassMedian: median(perPass), perPass };
};
const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'met' : '**NOT met**');

out.push('| target | measured | ratio / value | target | verdict |', '| --- | --- | ---: | ---: | --- |');
const ent = deliveries.enterprises;
if (ent) {
  out.push(`| bulk CSV delivery, enterprises | ${fmt(ent.rows)} rows in ${fmt(ent.secs, 1)} s (HTTP ${ent.http}) | ${fmt(ent.rps)} rows/s | ≥ ${fmt(TARGETS.deliveryRowsPerSec)} rows/s | ${verdict(ent.rps >= TARGETS.deliveryRowsPerSec)} |`);
}
const lic = deliveries.licenses;
if (lic) out.push(`| (licences, for information) | ${fmt(lic.rows)} rows in ${fmt(lic.secs, 1)} s (HTTP ${lic.http}) | ${fmt(lic.rps)} rows/s | – | – |`);
const q1 = ratio('q1', 'floor-lean');
out.push(`| Q1 req/s vs floor-lean (access path on) | ${fmt(q1.a.rps)} vs ${fmt(q1.b.rps)} req/s | **${fmt(q1.ofMedians, 2)}** (per pass: ${q1.perPass.map((x) => fmt(x, 2)).join(', ') || 'n/a'}; median ${fmt(q1.perPassMedian, 2)}) | ≥ ${TARGETS.q1VsFloorLean.toFixed(2)} | ${verdict(Number.isFinite(q1.ofMedians) ? q1.ofMedians >= TARGETS.q1VsFloorLean : null)} |`);
const q2 = ratio('q2', 'postgraphile');
out.push(`| Q2 req/s vs PostGraphile v5 (access path on) | ${fmt(q2.a.rps)} vs ${fmt(q2.b.rps)} req/s | **${fmt(q2.ofMedians, 2)}** (per pass: ${q2.perPass.map((x) => fmt(x, 2)).join(', ') || 'n/a'}; median ${fmt(q2.perPassMedian, 2)}) | ≥ ${TARGETS.q2VsPostgraphile.toFixed(2)} | ${verdict(Number.isFinite(q2.ofMedians) ? q2.ofMedians >= TARGETS.q2VsPostgraphile : null)} |`);
const gwPeak = max(runs.filter((r) => r.case === gatewayCase).map((r) => r.peak));
out.push(`| peak server RSS under query load (Q1+Q2, access path on) | VmHWM of the gateway's process tree, max over runs | ${fmt(gwPeak, 1)} MB | ≤ ${TARGETS.peakRssMb} MB | ${verdict(Number.isFinite(gwPeak) ? gwPeak <= TARGETS.peakRssMb : null)} |`);
const delPeak = max(Object.values(deliveries).map((d) => d.peak));
if (Number.isFinite(delPeak)) {
  out.push(`| peak server RSS during the deliveries | VmHWM after start-up + both uploads | ${fmt(delPeak, 1)} MB | ≤ ${TARGETS.peakRssMb} MB | ${verdict(delPeak <= TARGETS.peakRssMb)} |`);
}
const offPeak = max(runs.filter((r) => r.case === noaccessCase).map((r) => r.peak));
if (Number.isFinite(offPeak)) {
  out.push(`| (peak server RSS, ${noaccessCase}) | VmHWM after its start-up and its Q1+Q2 runs | ${fmt(offPeak, 1)} MB | (information) | – |`);
}
// The access path's cost: the same gateway and queries with ACCESS_ENFORCE=false, same passes.
for (const q of ['q1', 'q2']) {
  if (!groups.has(`${noaccessCase}/${q}`) || !groups.has(`${gatewayCase}/${q}`)) continue;
  const on = stat(`${gatewayCase}/${q}`);
  const off = stat(`${noaccessCase}/${q}`);
  const perPass = [];
  for (const r of groups.get(`${gatewayCase}/${q}`)) {
    const o = groups.get(`${noaccessCase}/${q}`).find((x) => x.pass === r.pass);
    if (o) perPass.push(cpuPerReq(r) - cpuPerReq(o));
  }
  const d = on.cpuPerReq - off.cpuPerReq;
  const r = ratio(q, noaccessCase); // gateway (on) vs gateway-noaccess
  out.push(
    `| access path's cost, ${q.toUpperCase()}: server CPU per request | on ${fmtUs(on.cpuPerReq)}, off ${fmtUs(off.cpuPerReq)} (per pass: ${perPass.map((x) => `${x >= 0 ? '+' : ''}${fmt(x)} µs`).join(', ')}) | ` +
      `**${d >= 0 ? '+' : ''}${fmt(d)} µs (${d >= 0 ? '+' : ''}${fmt((d / off.cpuPerReq) * 100)}%)** | (information) | – |`,
  );
  out.push(
    `| access path's cost, ${q.toUpperCase()}: req/s on / off | ${fmt(on.rps)} vs ${fmt(off.rps)} req/s | ${fmt(r.ofMedians, 2)} (per pass: ${r.perPass.map((x) => fmt(x, 2)).join(', ') || 'n/a'}) | (information) | – |`,
  );
}
for (const [q, refs] of [['q1', ['floor-lean', 'postgraphile']], ['q2', ['floor-lean', 'postgraphile']]]) {
  const g = stat(`${gatewayCase}/${q}`);
  const off = groups.has(`${noaccessCase}/${q}`) ? stat(`${noaccessCase}/${q}`) : null;
  const parts = refs.filter((r) => groups.has(`${r}/${q}`)).map((r) => `${r} ${fmtUs(stat(`${r}/${q}`).cpuPerReq)} (gateway ×${fmt(g.cpuPerReq / stat(`${r}/${q}`).cpuPerReq, 2)}${off ? `, noaccess ×${fmt(off.cpuPerReq / stat(`${r}/${q}`).cpuPerReq, 2)}` : ''})`);
  out.push(`| server CPU per request, ${q.toUpperCase()} | gateway ${fmtUs(g.cpuPerReq)}${off ? `; ${noaccessCase} ${fmtUs(off.cpuPerReq)}` : ''}; ${parts.join('; ') || 'no reference'} | ${fmtUs(g.cpuPerReq)} | (information) | – |`);
}
if (Number.isFinite(accessRecords)) {
  const measured = runs.filter((r) => r.case === gatewayCase).reduce((s, r) => s + (r.n || 0), 0);
  out.push(`| access records written during the passes | chain head moved by ${fmt(accessRecords)}; measured ${gatewayCase} requests ${fmt(measured)} (+ warm-ups and preflights) | ${fmt(accessRecords)} | (information) | – |`);
}
if (ent || lic) {
  const d = [ent && `enterprises ${fmt(ent.cpuSecs, 1)} s (${fmt((ent.cpuSecs / ent.rows) * 1e6, 1)} µs/row)`, lic && `licences ${fmt(lic.cpuSecs, 1)} s (${fmt((lic.cpuSecs / lic.rows) * 1e6, 1)} µs/row)`].filter(Boolean);
  out.push(`| server CPU of the deliveries | ${d.join('; ')} | | (information) | – |`);
}
const bad = runs.filter((r) => (r.errors || 0) + (r.non2xx || 0) > 0);
if (bad.length) out.push('', `**Warning**: ${bad.length} run(s) had socket errors, timeouts or non-2xx replies: ${bad.map((r) => `${r.case}/${r.query}/pass${r.pass}`).join(', ')}.`);
if (failures.length) out.push('', `**Failed runs** (not measured): ${failures.length}`, ...failures.map((f) => `- ${f}`));
console.log(out.join('\n'));
