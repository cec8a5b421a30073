/**
 * Issue 5's benchmark: push of a 1,000,000-row open dataset (the bench's enterprises in
 * `hzgw_bench`, loaded by `npm run bench`) to the provincial platform simulator, once clean and
 * once with 10% of chunks failing once. Prints rows/s, wall time, chunks, retries, and the peak
 * RSS of the pushing process (the simulator runs as a separate process: its memory is its own).
 *
 *   npx tsx bench/provincePush.ts        (BENCH_DB=hzgw_bench, PROVINCE_SIM_PORT=4399, CHUNK_ROWS=1000)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { loadPublishedCatalog } from '../src/catalog/catalogStore';
import { createPrisma } from '../src/db/createPrisma';
import { createSql } from '../src/db/createSql';
import { migrate } from '../src/db/migrate';
import { createProvinceClient } from '../src/province/provinceClient';
import { pushOpenData } from '../src/province/pushOpenData';

const DB = process.env.BENCH_DB ?? 'hzgw_bench';
const URL = `postgres://postgres@127.0.0.1:5432/${DB}`;
const PORT = Number(process.env.PROVINCE_SIM_PORT ?? 4399);
const CHUNK = Number(process.env.CHUNK_ROWS ?? 1000);
const CODE = '3.44.13.002/00000001';
const sim = `http://127.0.0.1:${PORT}`;

function rssOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/provinceSim.ts'], { env: { ...process.env, PROVINCE_SIM_PORT: String(PORT) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  const sql = createSql(URL, { max: 4 });
  const prisma = createPrisma(URL, 2);
  try {
    await migrate(sql);
    const { catalog } = await loadPublishedCatalog(prisma);
    // The push sends the open catalog as the authority published it: publish the enterprises' entry once.
    await sql`INSERT INTO open_catalog_entry (agency, dataset_code, version, fields, status, proposed_by, reviewed_by, reviewed_at)
              SELECT 'HZ-SCJGJ', ${CODE}, 1, ARRAY['uscc','name','establishedOn','district','status'], 'PUBLISHED', 'bench', 'bench', now()
              WHERE NOT EXISTS (SELECT 1 FROM open_catalog_entry WHERE dataset_code = ${CODE} AND status = 'PUBLISHED')`;
    const [{ n }] = await sql.unsafe(`SELECT count(*)::int AS n FROM ds.enterprise`);
    console.log(`# ${DB}: ${n} enterprises; chunks of ${CHUNK} rows; simulator pid ${child.pid}`);
    const log = pino({ level: 'warn' });
    for (const [label, faults] of [['clean', null], ['10% of chunks failing once', { failRate: 0.1, seed: 1 }]] as const) {
      await sql`DELETE FROM province_chunk WHERE dataset_code = ${CODE}`;
      await sql`DELETE FROM province_sync WHERE dataset_code = ${CODE}`;
      await fetch(`${sim}/_reset`, { method: 'POST' });
      if (faults) await fetch(`${sim}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const report = await pushOpenData(
        { sql, client: createProvinceClient({ endpoint: sim, timeoutMs: 30_000 }), catalog, log },
        { chunkRows: CHUNK, maxAttempts: 5, backoffMs: 50, only: [CODE] },
      );
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      const d = report.datasets[0];
      const stats = (await (await fetch(`${sim}/_stats`)).json()) as { counters: Record<string, number> };
      const retries = (await sql<{ n: number }[]>`SELECT coalesce(sum(attempts - 1), 0)::int AS n FROM province_chunk WHERE dataset_code = ${CODE}`)[0].n;
      console.log(
        `province-push/${faults ? 'failing' : 'clean'} rows=${d.rowsAcknowledged} secs=${secs.toFixed(1)} rows/s=${Math.round(d.rowsAcknowledged / secs)} chunks=${d.chunksSent} retries=${retries} ` +
          `province_rows=${d.provinceRows} differing=${d.differing} pusher_peak_rss=${(process.resourceUsage().maxRSS / 1024).toFixed(1)}MB pusher_cpu_s=${((cpu.user + cpu.system) / 1e6).toFixed(1)} ` +
          `sim_rss=${rssOf(child.pid!).rss.toFixed(0)}MB injected=${stats.counters.errorsInjected ?? 0} (${label})`,
      );
    }
  } finally {
    await sql.end();
    await prisma.$disconnect();
    child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
