import type { UpdateCycle } from '../../catalog/Catalog';
import { dueAt, FRESHNESS_PERIODS, isLate } from '../freshness';

const at = (iso: string): Date => new Date(iso);
const PUBLISHED = at('2026-01-01T00:00:00+08:00');

describe('dueAt', () => {
  it.each<[UpdateCycle, string, string | null]>([
    ['REALTIME', '2026-03-10T09:15:00+08:00', '2026-03-10T10:15:00+08:00'],
    ['DAILY', '2026-03-10T09:15:00+08:00', '2026-03-11T09:15:00+08:00'],
    ['WEEKLY', '2026-03-10T09:15:00+08:00', '2026-03-17T09:15:00+08:00'],
    ['MONTHLY', '2026-03-10T09:15:00+08:00', '2026-04-10T09:15:00+08:00'],
    // A month after 31 January is the last day of February (clamped), in Huizhou time.
    ['MONTHLY', '2026-01-31T20:00:00+08:00', '2026-02-28T20:00:00+08:00'],
    ['MONTHLY', '2028-01-31T20:00:00+08:00', '2028-02-29T20:00:00+08:00'],
    // 1 March 01:00 in Huizhou is still 28 February in UTC: months are counted in Huizhou time.
    ['MONTHLY', '2026-03-01T01:00:00+08:00', '2026-04-01T01:00:00+08:00'],
    ['QUARTERLY', '2026-11-30T12:00:00+08:00', '2027-02-28T12:00:00+08:00'],
    ['HALF_YEARLY', '2026-08-31T12:00:00+08:00', '2027-02-28T12:00:00+08:00'],
    ['YEARLY', '2028-02-29T12:00:00+08:00', '2029-02-28T12:00:00+08:00'],
    ['YEARLY', '2026-12-31T23:59:59+08:00', '2027-12-31T23:59:59+08:00'],
    ['OTHER', '2026-03-10T09:15:00+08:00', null],
  ])('%s after a delivery at %s is %s', (cycle, delivered, expected) => {
    expect(dueAt(cycle, at(delivered), PUBLISHED)?.toISOString() ?? null).toBe(expected === null ? null : at(expected).toISOString());
  });

  it('counts from publication when the dataset was never delivered', () => {
    expect(dueAt('WEEKLY', null, PUBLISHED)).toEqual(at('2026-01-08T00:00:00+08:00'));
  });

  it('takes another period table (configurable grace periods)', () => {
    expect(dueAt('DAILY', null, PUBLISHED, { ...FRESHNESS_PERIODS, DAILY: { days: 1, hours: 12 } })).toEqual(at('2026-01-02T12:00:00+08:00'));
  });
});

describe('isLate', () => {
  it.each<[UpdateCycle, string | null, string, boolean]>([
    ['REALTIME', '2026-03-10T09:00:00Z', '2026-03-10T10:00:00Z', false],
    ['REALTIME', '2026-03-10T09:00:00Z', '2026-03-10T10:00:00.001Z', true],
    ['DAILY', '2026-03-10T09:00:00Z', '2026-03-11T08:59:59Z', false],
    ['DAILY', '2026-03-10T09:00:00Z', '2026-03-11T09:00:01Z', true],
    ['DAILY', null, '2026-01-01T23:00:00+08:00', false],
    ['DAILY', null, '2026-01-02T00:00:01+08:00', true],
    ['MONTHLY', '2026-01-31T10:00:00+08:00', '2026-02-28T09:59:59+08:00', false],
    ['MONTHLY', '2026-01-31T10:00:00+08:00', '2026-02-28T10:00:01+08:00', true],
    ['YEARLY', '2026-03-10T00:00:00+08:00', '2027-03-09T00:00:00+08:00', false],
    ['YEARLY', '2026-03-10T00:00:00+08:00', '2027-03-10T00:00:01+08:00', true],
    ['OTHER', null, '2099-01-01T00:00:00Z', false],
  ])('%s, last delivered %s, at %s: %s', (cycle, delivered, now, late) => {
    expect(isLate(cycle, delivered === null ? null : at(delivered), PUBLISHED, at(now))).toBe(late);
  });
});
