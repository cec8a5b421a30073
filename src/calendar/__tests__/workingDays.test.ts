import {
  addWorkingDays,
  endOfShanghaiDay,
  HolidayYear,
  KNOWN_STATUTORY_DAYS,
  loadBundledYears,
  missingYearWarning,
  shanghaiDate,
  WorkingDayCalendar,
} from '../workingDays';

const cal = WorkingDayCalendar.bundled();

/** Event at noon Shanghai time of `date`. */
const at = (date: string): Date => new Date(`${date}T12:00:00+08:00`);
const dueDate = (start: Date, n: number, c = cal): string => shanghaiDate(addWorkingDays(start, n, c).due);

describe('bundled holiday files', () => {
  const years = loadBundledYears();

  it('loads 2024, 2025 and 2026', () => {
    expect(cal.years).toEqual([2024, 2025, 2026]);
  });

  it.each(years.map((y) => [y.year, y] as const))('%i.json is well formed', (year, y) => {
    expect(y.papers.length).toBeGreaterThan(0);
    for (const p of y.papers) expect(p).toMatch(/^https:\/\/www\.gov\.cn\//);
    const lo = `${year - 1}-12-01`;
    const hi = `${year + 1}-01-31`;
    const dates = y.days.map((d) => d.date);
    expect(new Set(dates).size).toBe(dates.length);
    for (const d of y.days) {
      expect(d.date >= lo && d.date <= hi).toBe(true);
      expect(shanghaiDate(new Date(`${d.date}T12:00:00+08:00`))).toBe(d.date); // real calendar date
      if (!d.isOffDay) {
        // 调休上班 days are weekend days
        expect([0, 6]).toContain(new Date(`${d.date}T00:00:00Z`).getUTCDay());
      }
    }
  });

  it.each([
    [2024, 11], // pre-2025 rules: 春节 初一–初三, 劳动节 5/1 only
    [2025, 13],
    [2026, 13],
  ])('every statutory day of %i is a day off (%i days)', (year, count) => {
    const statutory = KNOWN_STATUTORY_DAYS[year];
    expect(statutory).toHaveLength(count);
    for (const d of statutory) expect([d.date, cal.isWorkingDay(d.date)]).toEqual([d.date, { working: false, provisional: false }]);
  });
});

describe('isWorkingDay', () => {
  it.each([
    ['2025-10-01', false, false], // 国庆
    ['2025-10-08', false, false], // 国庆+中秋, Wed
    ['2025-09-28', true, false], // Sun, 调休上班
    ['2025-10-11', true, false], // Sat, 调休上班
    ['2025-10-12', false, false], // plain Sunday
    ['2025-10-09', true, false], // plain Thursday
    ['2026-02-14', true, false], // Sat, 调休上班
    ['2026-02-16', false, false], // 除夕
    ['2026-02-23', false, false], // Mon, last day of 春节
    ['2026-02-28', true, false], // Sat, 调休上班
    ['2026-01-04', true, false], // Sun, 调休上班
    ['2024-02-09', true, false], // 2024 除夕 was a working day
    ['2024-02-18', true, false], // Sun, 调休上班
    ['2027-03-03', true, true], // unloaded year: Wed
    ['2027-03-06', false, true], // unloaded year: Sat
    ['2027-02-05', false, true], // 除夕 (computed)
    ['2027-02-08', false, true], // 初三 (computed)
    ['2027-02-09', false, true], // art. 6 make-up for 2/6 (Sat)
    ['2027-02-10', false, true], // art. 6 make-up for 2/7 (Sun)
    ['2027-04-05', false, true], // 清明 (computed)
    ['2027-06-09', false, true], // 端午 (computed)
    ['2027-09-15', false, true], // 中秋 (computed)
    ['2027-10-01', false, true],
    ['2027-10-04', false, true], // make-up for 10/2 (Sat)
    ['2027-10-05', false, true], // make-up for 10/3 (Sun)
    ['2027-10-06', true, true],
    ['2028-10-02', false, true], // year without any table: fixed-date statutory day still off
  ])('%s → working %s, provisional %s', (date, working, provisional) => {
    expect(cal.isWorkingDay(date)).toEqual({ working, provisional });
  });

  it.each(['2025-02-30', '2025-1-01', '20250101', ''])('rejects invalid date %p', (d) => {
    expect(() => cal.isWorkingDay(d)).toThrow(RangeError);
  });
});

describe('addWorkingDays', () => {
  it.each([
    // 2025 National Day + 中秋: 10/1–8 off, 9/28 (Sun) and 10/11 (Sat) working
    ['2025-09-30', 2, '2025-10-10'],
    ['2025-09-30', 3, '2025-10-11'],
    ['2025-09-26', 2, '2025-09-29'], // 9/28 Sun counted
    ['2025-09-26', 3, '2025-09-30'],
    ['2025-10-03', 1, '2025-10-09'], // event inside the holiday
    // 2026 Spring Festival: 2/15–23 off, 2/14 (Sat) and 2/28 (Sat) working
    ['2026-02-12', 2, '2026-02-14'],
    ['2026-02-13', 2, '2026-02-24'],
    ['2026-02-13', 5, '2026-02-27'],
    ['2026-02-13', 6, '2026-02-28'],
    ['2026-02-26', 2, '2026-02-28'],
    // 2024
    ['2024-02-08', 1, '2024-02-09'],
    ['2024-02-08', 2, '2024-02-18'],
    ['2024-04-03', 1, '2024-04-07'],
    ['2024-09-27', 1, '2024-09-29'],
    ['2024-12-31', 1, '2025-01-02'],
    // periods of the regulation (DOMAIN.md deadlines table)
    ['2025-04-30', 5, '2025-05-12'], // 5/1–5 off
    ['2026-04-30', 10, '2026-05-18'], // 5/1–5 off, 5/9 (Sat) working
    ['2025-12-31', 20, '2026-01-29'], // 1/1–3 off, 1/4 (Sun) working
    ['2025-09-30', 20, '2025-11-04'],
    // weekend events
    ['2025-03-08', 1, '2025-03-10'], // Sat
    ['2025-03-09', 1, '2025-03-10'], // Sun
    ['2025-01-26', 1, '2025-01-27'], // Sun 调休上班: event day still not counted
    // n = 1 on a plain week
    ['2025-06-03', 1, '2025-06-04'],
  ])('event %s + %i working days → end of %s', (start, n, expected) => {
    const r = addWorkingDays(at(start), n, cal);
    expect(shanghaiDate(r.due)).toBe(expected);
    expect(r.due.toISOString()).toBe(new Date(`${expected}T23:59:59.999+08:00`).toISOString());
    expect(r.provisional).toBe(false);
  });

  it('returns the end of the Shanghai day as an instant', () => {
    expect(addWorkingDays(at('2025-09-30'), 2, cal).due.toISOString()).toBe('2025-10-10T15:59:59.999Z');
    expect(endOfShanghaiDay('2026-01-01').toISOString()).toBe('2026-01-01T15:59:59.999Z');
  });

  it.each([
    ['2025-09-30T23:30:00+08:00', 2, '2025-10-10'], // 15:30Z, still 9/30 in Shanghai
    ['2026-02-13T23:59:59.999+08:00', 1, '2026-02-14'], // last ms of Fri 2/13
    ['2026-02-14T00:00:00+08:00', 1, '2026-02-24'], // = 2026-02-13T16:00Z, already Sat 2/14 (not counted)
    ['2026-02-13T16:30:00Z', 1, '2026-02-24'],
    ['2025-12-31T16:30:00Z', 1, '2026-01-04'], // = 2026-01-01 00:30 Shanghai
  ])('time-zone edge: event at %s + %i → %s', (iso, n, expected) => {
    expect(dueDate(new Date(iso), n)).toBe(expected);
  });

  it.each([
    ['2026-12-31', 1, '2027-01-04'], // 1/1 off, weekend
    ['2027-09-30', 1, '2027-10-06'], // 10/1–3 off, 10/4–5 art. 6 make-up
    ['2027-02-04', 1, '2027-02-11'], // 2/5–8 off, 2/9–10 art. 6 make-up
    ['2027-04-30', 1, '2027-05-05'], // 5/1–2 (Sat–Sun) off, 5/3–4 make-up
    ['2027-06-08', 1, '2027-06-10'], // 端午 6/9
    ['2026-12-30', 2, '2027-01-04'], // loaded start, window reaches 2027
  ])('unloaded year 2027: %s + %i → %s, provisional', (start, n, expected) => {
    const r = addWorkingDays(at(start), n, cal);
    expect(shanghaiDate(r.due)).toBe(expected);
    expect(r.provisional).toBe(true);
  });

  it('is not provisional when the window stays in loaded years', () => {
    expect(addWorkingDays(at('2026-12-30'), 1, cal)).toEqual({
      due: new Date('2026-12-31T23:59:59.999+08:00'),
      provisional: false,
    });
  });

  it('treats an empty holiday-cn file (2027.json, days: []) as not loaded', () => {
    const c = WorkingDayCalendar.fromYears([...loadBundledYears(), { year: 2027, papers: [], days: [] }]);
    expect(c.hasYear(2027)).toBe(false);
    expect(addWorkingDays(at('2027-09-30'), 1, c).provisional).toBe(true);
  });

  it('uses a schedule loaded at runtime and drops the provisional flag', () => {
    const y2027: HolidayYear = {
      year: 2027,
      papers: ['https://example.invalid/hypothetical-2027-notice'],
      days: ['2027-10-01', '2027-10-02', '2027-10-03', '2027-10-04', '2027-10-05', '2027-10-06', '2027-10-07'].map(
        (date) => ({ name: '国庆节', date, isOffDay: true }),
      ),
    };
    const c = cal.withYear(y2027);
    expect(c.years).toEqual([2024, 2025, 2026, 2027]);
    expect(cal.hasYear(2027)).toBe(false); // original untouched
    expect(addWorkingDays(at('2027-09-30'), 1, c)).toEqual({
      due: new Date('2027-10-08T23:59:59.999+08:00'),
      provisional: false,
    });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects n = %p', (n) => {
    expect(() => addWorkingDays(at('2025-06-03'), n, cal)).toThrow(RangeError);
  });

  it('rejects an invalid start Date', () => {
    expect(() => addWorkingDays(new Date('nope'), 1, cal)).toThrow(RangeError);
  });
});

describe('missingYearWarning', () => {
  it.each([
    ['2026-06-01T12:00:00+08:00', null],
    ['2026-09-30T23:59:59+08:00', null], // = 15:59Z, still September in Shanghai
    ['2025-10-15T12:00:00+08:00', null], // 2026 loaded
    ['2024-12-31T12:00:00+08:00', null],
  ])('no warning at %s', (iso, expected) => {
    expect(missingYearWarning(cal, new Date(iso))).toBe(expected);
  });

  it.each([
    ['2026-09-30T16:00:00Z', '2027'], // 10/1 00:00 Shanghai
    ['2026-11-20T12:00:00+08:00', '2027'],
    ['2027-01-05T12:00:00+08:00', '2027'], // current year missing
  ])('warns at %s about %s', (iso, year) => {
    expect(missingYearWarning(cal, new Date(iso))).toContain(year);
  });
});
