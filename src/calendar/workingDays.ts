/**
 * Working-day (工作日) calendar of the People's Republic of China, pure and I/O-free at call time.
 *
 * Legal basis (see DOMAIN.md §6):
 *  - 《全国年节及纪念日放假办法》 (revised 2024-11-10, in force 2025-01-01): 13 statutory days a year —
 *    元旦 1; 春节 4 (除夕–初三); 清明 1; 劳动节 2 (5/1–2); 端午 1; 中秋 1; 国庆 3 (10/1–3).
 *    Art. 6: a holiday for all citizens falling on Sat/Sun is made up (补假) on a working day.
 *    Art. 7: days may be swapped (调休); the exact dates come from the yearly 国务院办公厅 notice.
 *  - 《民法典》 art. 201: the day on which a period starts is not counted; art. 203: a period whose last day is a
 *    statutory holiday ends on the day after the holiday; the period ends at 24:00 of the last day.
 *  - 《行政许可法》 art. 82: periods in 工作日 exclude 法定节假日.
 *
 * Schedules are held in the holiday-cn JSON schema (`{year, papers[], days[{name,date,isOffDay}]}`, MIT), one
 * file per notice year. Files are keyed by the *notice* year, so a December date may sit in next year's file:
 * lookups therefore merge the entries of every loaded file.
 *
 * For a year whose notice is not loaded we NEVER fall back silently to Mon–Fri (the chinese-days pitfall): the
 * statutory days we can know (`KNOWN_STATUTORY_DAYS`, or the fixed-date ones), their art. 6 make-up days, and
 * weekends are off, and every answer touching that year is flagged `provisional`.
 *
 * All dates are Asia/Shanghai calendar dates (UTC+8, no DST since 1991).
 */
import y2024 from './holidays/2024.json';
import y2025 from './holidays/2025.json';
import y2026 from './holidays/2026.json';

export interface HolidayDay {
  /** Holiday name as in the notice, e.g. 春节. */
  name: string;
  /** Shanghai calendar date, YYYY-MM-DD. */
  date: string;
  /** true = day off (放假); false = adjusted working day (调休上班, usually a Sat/Sun). */
  isOffDay: boolean;
}

/** One 国务院办公厅 notice in holiday-cn schema. */
export interface HolidayYear {
  year: number;
  /** URL(s) of the notice(s) the days come from. */
  papers: string[];
  days: HolidayDay[];
}

export interface WorkingDayAnswer {
  working: boolean;
  /** true when the date's year has no loaded schedule: the answer rests on statutory rules only. */
  provisional: boolean;
}

export interface Deadline {
  /** End of the last working day: 23:59:59.999 Asia/Shanghai (民法典 art. 203: ends at 24:00). */
  due: Date;
  /** true when any day counted or skipped fell in a year without a loaded schedule. */
  provisional: boolean;
}

export interface StatutoryDay {
  name: string;
  date: string;
}

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Statutory days (全国年节及纪念日放假办法) per year, before any 调休. Lunar-calendar days (春节, 端午, 中秋) and the
 * 清明 solar term must be computed per year; extend this table as needed. 2024 follows the pre-2025 rules (11 days:
 * 春节 初一–初三, 劳动节 5/1 only). 2027 is computed (DOMAIN.md §6) and not yet announced.
 */
export const KNOWN_STATUTORY_DAYS: Readonly<Record<number, readonly StatutoryDay[]>> = {
  2024: [
    { name: '元旦', date: '2024-01-01' },
    { name: '春节', date: '2024-02-10' },
    { name: '春节', date: '2024-02-11' },
    { name: '春节', date: '2024-02-12' },
    { name: '清明节', date: '2024-04-04' },
    { name: '劳动节', date: '2024-05-01' },
    { name: '端午节', date: '2024-06-10' },
    { name: '中秋节', date: '2024-09-17' },
    { name: '国庆节', date: '2024-10-01' },
    { name: '国庆节', date: '2024-10-02' },
    { name: '国庆节', date: '2024-10-03' },
  ],
  2025: [
    { name: '元旦', date: '2025-01-01' },
    { name: '春节', date: '2025-01-28' },
    { name: '春节', date: '2025-01-29' },
    { name: '春节', date: '2025-01-30' },
    { name: '春节', date: '2025-01-31' },
    { name: '清明节', date: '2025-04-04' },
    { name: '劳动节', date: '2025-05-01' },
    { name: '劳动节', date: '2025-05-02' },
    { name: '端午节', date: '2025-05-31' },
    { name: '国庆节', date: '2025-10-01' },
    { name: '国庆节', date: '2025-10-02' },
    { name: '国庆节', date: '2025-10-03' },
    { name: '中秋节', date: '2025-10-06' },
  ],
  2026: [
    { name: '元旦', date: '2026-01-01' },
    { name: '春节', date: '2026-02-16' },
    { name: '春节', date: '2026-02-17' },
    { name: '春节', date: '2026-02-18' },
    { name: '春节', date: '2026-02-19' },
    { name: '清明节', date: '2026-04-05' },
    { name: '劳动节', date: '2026-05-01' },
    { name: '劳动节', date: '2026-05-02' },
    { name: '端午节', date: '2026-06-19' },
    { name: '中秋节', date: '2026-09-25' },
    { name: '国庆节', date: '2026-10-01' },
    { name: '国庆节', date: '2026-10-02' },
    { name: '国庆节', date: '2026-10-03' },
  ],
  2027: [
    { name: '元旦', date: '2027-01-01' },
    { name: '春节', date: '2027-02-05' }, // 除夕
    { name: '春节', date: '2027-02-06' },
    { name: '春节', date: '2027-02-07' },
    { name: '春节', date: '2027-02-08' },
    { name: '清明节', date: '2027-04-05' }, // solar term, computed
    { name: '劳动节', date: '2027-05-01' },
    { name: '劳动节', date: '2027-05-02' },
    { name: '端午节', date: '2027-06-09' },
    { name: '中秋节', date: '2027-09-15' },
    { name: '国庆节', date: '2027-10-01' },
    { name: '国庆节', date: '2027-10-02' },
    { name: '国庆节', date: '2027-10-03' },
  ],
};

/**
 * Statutory days of `year`: the `KNOWN_STATUTORY_DAYS` entry, else only the fixed-date ones of the current rules
 * (元旦 1/1, 劳动节 5/1–2, 国庆 10/1–3); lunar holidays and 清明 of such a year are then unknown.
 */
export function statutoryDays(year: number): readonly StatutoryDay[] {
  const known = KNOWN_STATUTORY_DAYS[year];
  if (known) return known;
  const y = String(year).padStart(4, '0');
  return [
    { name: '元旦', date: `${y}-01-01` },
    { name: '劳动节', date: `${y}-05-01` },
    { name: '劳动节', date: `${y}-05-02` },
    { name: '国庆节', date: `${y}-10-01` },
    { name: '国庆节', date: `${y}-10-02` },
    { name: '国庆节', date: `${y}-10-03` },
  ];
}

function parseDate(date: string): number {
  const m = DATE_RE.exec(date);
  if (m) {
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (new Date(t).toISOString().slice(0, 10) === date) return t;
  }
  throw new RangeError(`invalid date ${JSON.stringify(date)}, expected YYYY-MM-DD`);
}

/** UTC-midnight epoch of a calendar day → YYYY-MM-DD. */
function formatDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function isWeekend(t: number): boolean {
  const dow = new Date(t).getUTCDay();
  return dow === 0 || dow === 6;
}

/** The Asia/Shanghai calendar date of an instant, as YYYY-MM-DD. */
export function shanghaiDate(instant: Date): string {
  const t = instant.getTime();
  if (!Number.isFinite(t)) throw new RangeError('invalid Date');
  return formatDay(Math.floor((t + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS);
}

/** The instant 23:59:59.999 Asia/Shanghai of a calendar date. */
export function endOfShanghaiDay(date: string): Date {
  return new Date(parseDate(date) + DAY_MS - 1 - SHANGHAI_OFFSET_MS);
}

/**
 * Provisional days off of a year without a loaded notice: its statutory days plus, per art. 6, one make-up
 * weekday for each statutory day falling on a Sat/Sun (the first following weekday not already off).
 */
function provisionalOffDays(year: number): Map<string, string> {
  const off = new Map<string, string>();
  const days = [...statutoryDays(year)].sort((a, b) => a.date.localeCompare(b.date));
  for (const d of days) off.set(d.date, d.name);
  for (const d of days) {
    const t = parseDate(d.date);
    if (!isWeekend(t)) continue;
    let u = t + DAY_MS;
    while (isWeekend(u) || off.has(formatDay(u))) u += DAY_MS;
    off.set(formatDay(u), `${d.name}（补假）`);
  }
  return off;
}

export class WorkingDayCalendar {
  private readonly entries = new Map<string, HolidayDay>();
  private readonly loaded = new Set<number>();
  private readonly provisionalCache = new Map<number, Map<string, string>>();
  private readonly sourceYears: HolidayYear[] = [];

  private constructor(years: readonly HolidayYear[]) {
    for (const y of years) this.addYear(y);
  }

  /** Builds a calendar from holiday-cn year files. A file with no days (e.g. holiday-cn 2027.json) is ignored. */
  static fromYears(years: readonly HolidayYear[]): WorkingDayCalendar {
    return new WorkingDayCalendar(years);
  }

  /** Calendar of the schedules bundled with the build (`holidays/*.json`). */
  static bundled(): WorkingDayCalendar {
    return new WorkingDayCalendar(loadBundledYears());
  }

  /** Years whose notice is loaded. */
  get years(): number[] {
    return [...this.loaded].sort((a, b) => a - b);
  }

  hasYear(year: number): boolean {
    return this.loaded.has(year);
  }

  /**
   * Returns a new calendar with `year` added or replaced (admin loads a freshly published notice; DOMAIN.md §6
   * rule 3). Open deadlines must then be recomputed by the caller.
   */
  withYear(year: HolidayYear): WorkingDayCalendar {
    const others = this.sourceYears.filter((y) => y.year !== year.year);
    return new WorkingDayCalendar([...others, year]);
  }

  private addYear(y: HolidayYear): void {
    if (!Number.isInteger(y.year)) throw new RangeError(`invalid holiday year ${String(y.year)}`);
    this.sourceYears.push(y);
    if (y.days.length === 0) return; // holiday-cn publishes empty files for not-yet-announced years
    for (const d of y.days) {
      parseDate(d.date);
      const prev = this.entries.get(d.date);
      if (prev && prev.isOffDay !== d.isOffDay) {
        throw new RangeError(`conflicting entries for ${d.date} (${prev.name} / ${d.name})`);
      }
      this.entries.set(d.date, d);
    }
    this.loaded.add(y.year);
  }

  /**
   * Whether `date` (Asia/Shanghai calendar date, YYYY-MM-DD) is a working day.
   * Loaded year: listed off-day → off; listed 调休上班 day → working; else Mon–Fri.
   * Unloaded year: statutory days, their art. 6 make-up days and weekends are off; `provisional: true`.
   */
  isWorkingDay(date: string): WorkingDayAnswer {
    const t = parseDate(date);
    const year = Number(date.slice(0, 4));
    const provisional = !this.loaded.has(year);
    const entry = this.entries.get(date); // may come from next year's notice (December dates)
    if (entry) return { working: !entry.isOffDay, provisional };
    if (provisional && this.provisionalOff(year).has(date)) return { working: false, provisional };
    return { working: !isWeekend(t), provisional };
  }

  private provisionalOff(year: number): Map<string, string> {
    let m = this.provisionalCache.get(year);
    if (!m) {
      m = provisionalOffDays(year);
      this.provisionalCache.set(year, m);
    }
    return m;
  }
}

/** The holiday-cn files shipped in `src/calendar/holidays/` (imported, so they are part of the build). */
export function loadBundledYears(): HolidayYear[] {
  return [y2024, y2025, y2026];
}

/**
 * Deadline of "within `n` working days" from the event at instant `start`.
 * 民法典 art. 201: the event day itself is not counted; counting starts the next Shanghai calendar day.
 * The period ends at the end (24:00, here 23:59:59.999 +08:00) of the n-th working day; since that day is a
 * working day, art. 203's holiday extension never applies. Dates are Shanghai dates: an event at
 * 2025-09-30T23:30+08:00 (15:30Z) is on 9/30.
 */
export function addWorkingDays(start: Date, n: number, cal: WorkingDayCalendar): Deadline {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${String(n)}`);
  let t = parseDate(shanghaiDate(start));
  let counted = 0;
  let provisional = false;
  while (counted < n) {
    t += DAY_MS;
    const ans = cal.isWorkingDay(formatDay(t));
    if (ans.provisional) provisional = true;
    if (ans.working) counted++;
  }
  return { due: endOfShanghaiDay(formatDay(t)), provisional };
}

/**
 * Alert text when schedules are missing (DOMAIN.md §6 rule 4): the current Shanghai year is not loaded, or, from
 * October on (notices usually come out in November), next year's is not. Null when nothing is missing.
 */
export function missingYearWarning(cal: WorkingDayCalendar, now: Date): string | null {
  const today = shanghaiDate(now);
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  if (!cal.hasYear(year)) {
    return `工作日历缺少 ${year} 年放假安排：期限按法定节假日与周末临时计算（provisional），请加载国务院办公厅 ${year} 年部分节假日安排通知。`;
  }
  if (month >= 10 && !cal.hasYear(year + 1)) {
    return `工作日历缺少 ${year + 1} 年放假安排：跨年期限将临时计算（provisional），国务院办公厅通知发布后请及时加载。`;
  }
  return null;
}
