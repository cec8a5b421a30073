/**
 * Durable timed work on PostgreSQL (pg-boss 10, its own schema `pgboss`): jobs survive restarts
 * and each is done by one gateway process even when several share the database (pg-boss fetches
 * with SKIP LOCKED; its cron scheduler sends each minute's job once). Every run is written to
 * `job_run` by job id, as evidence.
 *
 * Queue `deadline-sweep`, scheduled by `deadlines.sweepCron` (Asia/Shanghai): reminders and
 * escalations of share-request deadlines (workflow/deadlines.ts).
 */
import os from 'node:os';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Sql } from '../db/createSql';
import type { WorkingDayCalendar } from '../calendar/workingDays';
import { sweepDeadlines } from '../workflow/deadlines';

export const SWEEP_QUEUE = 'deadline-sweep';
export const PROVINCE_QUEUE = 'province-push';

export interface Jobs {
  boss: PgBoss;
  /** Sends one deadline sweep now (tests, operators). */
  sweepNow(): Promise<string | null>;
  /** Sends one push to the provincial platform now (when one is configured). */
  pushNow(): Promise<string | null>;
  stop(): Promise<void>;
}

export async function createJobs(opts: {
  url: string;
  sql: Sql;
  log: Logger;
  sweepCron: string;
  reminderBeforeHours: number;
  /** The calendar in force (it changes when the authority loads a year). */
  calendar: () => WorkingDayCalendar;
  /** The push to the provincial platform, when one is configured: its cron and the work. */
  province?: { cron: string; run: () => Promise<unknown> };
}): Promise<Jobs> {
  const log = opts.log.child({ component: 'jobs' });
  const boss = new PgBoss({ connectionString: opts.url, schema: 'pgboss', max: 2, application_name: 'hz-share-gateway jobs' });
  boss.on('error', (err) => log.error({ err }, 'job queue error'));
  await boss.start();
  await boss.createQueue(SWEEP_QUEUE);
  await boss.schedule(SWEEP_QUEUE, opts.sweepCron, {}, { tz: 'Asia/Shanghai' });
  const worker = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  await boss.work(SWEEP_QUEUE, { pollingIntervalSeconds: 1 }, async (jobs) => {
    for (const job of jobs) {
      const result = await sweepDeadlines(opts.sql, { reminderBeforeHours: opts.reminderBeforeHours, calendar: opts.calendar() });
      // No ON CONFLICT: a second run of one job would fail here, loudly.
      await opts.sql`INSERT INTO job_run (job_id, queue, worker, result) VALUES (${job.id}, ${SWEEP_QUEUE}, ${worker}, ${opts.sql.json(result as never)})`;
      if (result.reminders || result.escalations || result.calendarWarnings) log.info({ jobId: job.id, ...result }, 'deadline sweep');
    }
  });
  if (opts.province) {
    const province = opts.province;
    await boss.createQueue(PROVINCE_QUEUE);
    await boss.schedule(PROVINCE_QUEUE, province.cron, {}, { tz: 'Asia/Shanghai' });
    await boss.work(PROVINCE_QUEUE, { pollingIntervalSeconds: 2 }, async (jobs) => {
      for (const job of jobs) {
        const result = await province.run();
        await opts.sql`INSERT INTO job_run (job_id, queue, worker, result) VALUES (${job.id}, ${PROVINCE_QUEUE}, ${worker}, ${opts.sql.json(result as never)})`;
      }
    });
  }
  return {
    boss,
    sweepNow: () => boss.send(SWEEP_QUEUE, {}),
    pushNow: () => (opts.province ? boss.send(PROVINCE_QUEUE, {}) : Promise.resolve(null)),
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    },
  };
}
