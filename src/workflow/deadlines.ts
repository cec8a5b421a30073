/**
 * Deadlines enforced, not only displayed (issue 4, item 6): the deadline sweep, run every minute
 * by a durable job (src/jobs/createJobs.ts), writes
 * - a REMINDER to the department that owes an answer (the source department) once a deadline is
 *   less than `deadlines.reminderBeforeHours` away, and
 * - an ESCALATION to the data authority (and the department) once a deadline has passed,
 * for share requests PENDING (answer due) and APPROVED (sharing due), demands for uncatalogued
 * data, error reports and data subjects' requests. Each notification exists
 * at most once per department, kind, request and due date (unique index), so the sweep is
 * idempotent: a retried or repeated run changes nothing. Pure SQL, one statement per kind.
 */
import type { Sql } from '../db/createSql';
import { missingYearWarning, shanghaiDate, type WorkingDayCalendar } from '../calendar/workingDays';

export interface SweepResult {
  reminders: number;
  escalations: number;
  /** Warnings to the data authority that a year's holiday schedule is missing (once per year). */
  calendarWarnings?: number;
}

/** The year whose schedule is missing and the warning text (DOMAIN.md §6 rule 4), or null. */
export function calendarGap(cal: WorkingDayCalendar, now: Date): { year: number; message: string } | null {
  const message = missingYearWarning(cal, now);
  if (!message) return null;
  const year = Number(shanghaiDate(now).slice(0, 4));
  return { year: cal.hasYear(year) ? year + 1 : year, message };
}

/**
 * Open obligations with their due date and the department that owes them: share requests
 * (answer, sharing), demands for uncatalogued data (R11), error reports and data subjects'
 * requests (R17, R18).
 */
const OBLIGATIONS = `
  SELECT 'share_request' AS kind, r.id, src.code AS source, req.code AS requester, ds.code AS dataset,
         CASE r.status WHEN 'PENDING' THEN r.answer_due_at ELSE r.fulfil_due_at END AS due,
         CASE r.status WHEN 'PENDING' THEN '答复' ELSE '完成共享' END AS duty, '共享申请' AS label
    FROM share_request r
    JOIN dataset ds ON ds.id = r.dataset_id
    JOIN department src ON src.id = ds.department_id
    JOIN department req ON req.id = r.agency_id
   WHERE (r.status = 'PENDING' AND r.answer_due_at IS NOT NULL) OR (r.status = 'APPROVED' AND r.fulfil_due_at IS NOT NULL)
  UNION ALL
  SELECT 'data_demand', d.id, d.department, d.agency, '未编目数据', d.due_at, '答复', '数据需求'
    FROM data_demand d WHERE d.status = 'OPEN'
  UNION ALL
  SELECT 'public_request', p.id, p.department, p.requester_ref, coalesce(p.dataset_code, '开放目录外数据'), p.due_at, '答复', '公众数据申请'
    FROM public_request p WHERE p.status = 'OPEN'
  UNION ALL
  SELECT 'data_correction', c.id, src.code, c.agency, ds.code, c.due_at, '处理并反馈',
         CASE c.kind WHEN 'ERROR_REPORT' THEN '数据纠错' ELSE '数据主体异议' END
    FROM data_correction c
    JOIN dataset ds ON ds.id = c.dataset_id
    JOIN department src ON src.id = ds.department_id
   WHERE c.status = 'OPEN'`;

const fmtDue = `to_char(o.due AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')`;

export async function sweepDeadlines(sql: Sql, opts: { reminderBeforeHours: number; now?: Date; calendar?: WorkingDayCalendar }): Promise<SweepResult> {
  const now = (opts.now ?? new Date()).toISOString();
  const reminders = await sql.unsafe(
    `INSERT INTO notification (department, kind, subject_type, subject_id, due_at, message)
     SELECT o.source, 'REMINDER', o.kind, o.id, o.due,
            format('%s #%s（%s → %s）须于 %s（北京时间）前%s。', o.label, o.id, o.requester, o.dataset, ${fmtDue}, o.duty)
       FROM (${OBLIGATIONS}) o
      WHERE o.due > $1::timestamptz AND o.due <= $1::timestamptz + make_interval(hours => $2::int)
     ON CONFLICT DO NOTHING RETURNING id`,
    [now, opts.reminderBeforeHours],
  );
  const escalations = await sql.unsafe(
    `INSERT INTO notification (department, kind, subject_type, subject_id, due_at, message)
     SELECT t.department, 'ESCALATION', o.kind, o.id, o.due,
            format('逾期：%s #%s（%s → %s）应于 %s（北京时间）前%s，%s 尚未办理。', o.label, o.id, o.requester, o.dataset, ${fmtDue}, o.duty, o.source)
       FROM (${OBLIGATIONS}) o
       CROSS JOIN LATERAL (SELECT code AS department FROM department WHERE is_authority UNION SELECT o.source) t
      WHERE o.due <= $1::timestamptz
     ON CONFLICT DO NOTHING RETURNING id`,
    [now],
  );
  let calendarWarnings = 0;
  const gap = opts.calendar ? calendarGap(opts.calendar, opts.now ?? new Date()) : null;
  if (gap) {
    const warned = await sql.unsafe(
      `INSERT INTO notification (department, kind, subject_type, subject_id, due_at, message)
       SELECT code, 'CALENDAR', 'holiday_year', $1::int, make_timestamptz($1::int, 1, 1, 0, 0, 0, 'Asia/Shanghai'), $2
         FROM department WHERE is_authority
       ON CONFLICT DO NOTHING RETURNING id`,
      [gap.year, gap.message],
    );
    calendarWarnings = warned.length;
  }
  return { reminders: reminders.length, escalations: escalations.length, ...(opts.calendar ? { calendarWarnings } : {}) };
}

export interface DepartmentDeadlines {
  department: string;
  /** Open obligations (answers and sharing owed). */
  open: number;
  /** Due within the next 24 hours. */
  dueSoon: number;
  overdue: number;
  /** Earliest due date among the open ones. */
  nextDue: Date | null;
}

/** The data authority's overview: what every department owes, due soon and overdue. */
export async function deadlineOverview(sql: Sql, now = new Date()): Promise<DepartmentDeadlines[]> {
  const rows = await sql.unsafe<{ department: string; open: number; due_soon: number; overdue: number; next_due: string | null }[]>(
    `SELECT o.source AS department, count(*)::int AS open,
            count(*) FILTER (WHERE o.due > $1::timestamptz AND o.due <= $1::timestamptz + interval '24 hours')::int AS due_soon,
            count(*) FILTER (WHERE o.due <= $1::timestamptz)::int AS overdue,
            to_json(min(o.due))#>>'{}' AS next_due
       FROM (${OBLIGATIONS}) o GROUP BY o.source ORDER BY overdue DESC, o.source`,
    [now.toISOString()],
  );
  return rows.map((r) => ({ department: r.department, open: r.open, dueSoon: r.due_soon, overdue: r.overdue, nextDue: r.next_due ? new Date(r.next_due) : null }));
}
