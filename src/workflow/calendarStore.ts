/**
 * The working-day calendar as the gateway uses it: the schedules bundled with the build plus the
 * years the data authority loaded at run time (holiday_year). Loading a year recomputes every
 * open deadline in the same transaction and tells every gateway process (NOTIFY), which reload
 * their calendar. DOMAIN.md §6.
 */
import type { Sql } from '../db/createSql';
import { addWorkingDays, loadBundledYears, WorkingDayCalendar, type HolidayYear } from '../calendar/workingDays';
import { UserInputError } from '../errors';
import { CORRECTION_WORKING_DAYS, DEMAND_WORKING_DAYS, PUBLIC_REQUEST_WORKING_DAYS } from './dataIssues';
import { ANSWER_WORKING_DAYS, FULFIL_WORKING_DAYS } from './shareRequests';

export const CALENDAR_CHANNEL = 'hzgw_calendar_changed';

export async function loadCalendar(sql: Sql): Promise<WorkingDayCalendar> {
  const rows = await sql<{ data: HolidayYear }[]>`SELECT data FROM holiday_year ORDER BY year`;
  const loaded = new Set(rows.map((r) => r.data.year));
  return WorkingDayCalendar.fromYears([...loadBundledYears().filter((y) => !loaded.has(y.year)), ...rows.map((r) => r.data)]);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks a notice in holiday-cn format; every problem at once. */
export function checkHolidayYear(y: unknown): HolidayYear {
  const problems: string[] = [];
  const o = y as Partial<HolidayYear> | null;
  if (!o || typeof o !== 'object') throw new UserInputError('schedule: expected { year, papers, days: [{ name, date, isOffDay }] } (holiday-cn format)');
  if (!Number.isInteger(o.year) || o.year! < 2000 || o.year! > 2100) problems.push('year: a year from 2000 to 2100');
  if (!Array.isArray(o.papers) || o.papers.some((p) => typeof p !== 'string')) problems.push('papers: the notice URL(s), as strings');
  if (!Array.isArray(o.days) || o.days.length === 0) problems.push('days: at least one day');
  else
    o.days.forEach((d, i) => {
      if (!d || typeof d.name !== 'string' || !d.name.trim()) problems.push(`days[${i}].name: the holiday's name`);
      if (!d || typeof d.date !== 'string' || !DATE.test(d.date) || Number.isNaN(Date.parse(`${d.date}T00:00:00Z`))) problems.push(`days[${i}].date: YYYY-MM-DD`);
      else if (Math.abs(Number(d.date.slice(0, 4)) - (o.year ?? 0)) > 1) problems.push(`days[${i}].date: ${d.date} is not in or next to ${o.year}`);
      if (!d || typeof d.isOffDay !== 'boolean') problems.push(`days[${i}].isOffDay: true (day off) or false (adjusted working day)`);
    });
  if (problems.length) throw new UserInputError(`schedule has ${problems.length} problem(s): ${problems.join('; ')}`, { extensions: { problems } });
  return { year: o.year!, papers: o.papers!, days: o.days!.map((d) => ({ name: d.name.trim(), date: d.date, isOffDay: d.isOffDay })) };
}

/**
 * Stores (or replaces) a year's schedule and recomputes the due dates of everything open (share
 * requests, demands, error reports and data subjects' requests), all in one transaction. Returns the new calendar and how many deadlines changed.
 */
export async function saveHolidayYear(sql: Sql, current: WorkingDayCalendar, schedule: unknown, by: string): Promise<{ calendar: WorkingDayCalendar; recomputed: number }> {
  const year = checkHolidayYear(schedule);
  let calendar: WorkingDayCalendar;
  try {
    calendar = current.withYear(year);
  } catch (err) {
    throw new UserInputError(`schedule: ${(err as Error).message}`);
  }
  const recomputed = await sql.begin(async (tx) => {
    await tx`INSERT INTO holiday_year (year, data, loaded_by) VALUES (${year.year}, ${tx.json(year as never)}, ${by})
             ON CONFLICT (year) DO UPDATE SET data = EXCLUDED.data, loaded_by = EXCLUDED.loaded_by, loaded_at = now()`;
    const open = await tx<{ id: number; status: string; requested_at: string; decided_at: string | null; answer_due_at: string | null; fulfil_due_at: string | null; due_provisional: boolean }[]>`
      SELECT id, status, to_json(requested_at)#>>'{}' AS requested_at, to_json(decided_at)#>>'{}' AS decided_at,
             to_json(answer_due_at)#>>'{}' AS answer_due_at, to_json(fulfil_due_at)#>>'{}' AS fulfil_due_at, due_provisional
        FROM share_request WHERE status IN ('PENDING', 'APPROVED') FOR UPDATE`;
    let changed = 0;
    for (const r of open) {
      // The deadline that is running: the answer while PENDING, the sharing while APPROVED.
      const pending = r.status === 'PENDING';
      const from = pending ? r.requested_at : r.decided_at;
      if (!from) continue;
      const due = addWorkingDays(new Date(from), pending ? ANSWER_WORKING_DAYS : FULFIL_WORKING_DAYS, calendar);
      const was = pending ? r.answer_due_at : r.fulfil_due_at;
      if (was && new Date(was).getTime() === due.due.getTime() && r.due_provisional === due.provisional) continue;
      changed++;
      await tx`UPDATE share_request SET ${tx(pending ? 'answer_due_at' : 'fulfil_due_at')} = ${due.due.toISOString()}, due_provisional = ${due.provisional}
               WHERE id = ${r.id}`;
      await tx`INSERT INTO share_request_event (share_request_id, action, from_status, to_status, actor, reason)
               VALUES (${r.id}, 'DEADLINE_RECOMPUTED', ${r.status}, ${r.status}, ${by}, ${`${year.year} 年放假安排已加载: ${was ?? '—'} → ${due.due.toISOString()}`})`;
    }
    // Demands (5 working days) and error reports / data subjects' requests (10), while open.
    for (const [table, days] of [['data_demand', DEMAND_WORKING_DAYS], ['data_correction', CORRECTION_WORKING_DAYS], ['public_request', PUBLIC_REQUEST_WORKING_DAYS]] as const) {
      const rows = await tx<{ id: number; filed_at: string; due_at: string; due_provisional: boolean }[]>`
        SELECT id, to_json(filed_at)#>>'{}' AS filed_at, to_json(due_at)#>>'{}' AS due_at, due_provisional
          FROM ${tx(table)} WHERE status = 'OPEN' FOR UPDATE`;
      for (const r of rows) {
        const due = addWorkingDays(new Date(r.filed_at), days, calendar);
        if (new Date(r.due_at).getTime() === due.due.getTime() && r.due_provisional === due.provisional) continue;
        changed++;
        await tx`UPDATE ${tx(table)} SET due_at = ${due.due.toISOString()}, due_provisional = ${due.provisional} WHERE id = ${r.id}`;
      }
    }
    await tx`SELECT pg_notify(${CALENDAR_CHANNEL}, ${String(year.year)})`;
    return changed;
  });
  return { calendar, recomputed };
}
