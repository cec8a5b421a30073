/**
 * Timeliness of deliveries (R3, Art. 10): each catalog entry states an update cycle, and the
 * source department must deliver on that schedule. A dataset is late once its update period
 * has passed since its last delivery, or since its publication when it was never delivered.
 *
 * Pure; `now` is injected.
 */
import type { UpdateCycle } from '../catalog/Catalog';

/** A period after which the next delivery is due; months are calendar months. */
export interface FreshnessPeriod {
  hours?: number;
  days?: number;
  months?: number;
}

/**
 * Update period per cycle; null = no schedule, never late. The one place to change (or later
 * load from configuration) what "on time" means.
 */
export const FRESHNESS_PERIODS: Readonly<Record<UpdateCycle, FreshnessPeriod | null>> = Object.freeze({
  REALTIME: { hours: 1 },
  DAILY: { days: 1 },
  WEEKLY: { days: 7 },
  MONTHLY: { months: 1 },
  QUARTERLY: { months: 3 },
  HALF_YEARLY: { months: 6 },
  YEARLY: { months: 12 },
  OTHER: null,
});

/** Calendar months are counted in Huizhou time, China Standard Time (UTC+8, no daylight saving). */
const LOCAL_OFFSET_MS = 8 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

/**
 * When the next delivery is due: `lastDeliveredAt` (or `publishedAt` when never delivered)
 * plus the cycle's period. A calendar month keeps the day of month, clamped to the month's
 * last day (31 Jan + 1 month = 28/29 Feb). Returns null for cycles without a period (OTHER).
 */
export function dueAt(
  cycle: UpdateCycle,
  lastDeliveredAt: Date | null,
  publishedAt: Date,
  periods: Readonly<Record<UpdateCycle, FreshnessPeriod | null>> = FRESHNESS_PERIODS,
): Date | null {
  const period = periods[cycle];
  if (!period) return null;
  const from = lastDeliveredAt ?? publishedAt;
  let t = from.getTime() + ((period.hours ?? 0) + (period.days ?? 0) * 24) * HOUR_MS;
  if (period.months) t = addCalendarMonths(t, period.months);
  return new Date(t);
}

/** True when the next delivery was due before `now` (see dueAt); never for cycles without a period. */
export function isLate(
  cycle: UpdateCycle,
  lastDeliveredAt: Date | null,
  publishedAt: Date,
  now: Date,
  periods: Readonly<Record<UpdateCycle, FreshnessPeriod | null>> = FRESHNESS_PERIODS,
): boolean {
  const due = dueAt(cycle, lastDeliveredAt, publishedAt, periods);
  return due !== null && now.getTime() > due.getTime();
}

function addCalendarMonths(utcMs: number, months: number): number {
  const local = new Date(utcMs + LOCAL_OFFSET_MS);
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(local.getUTCDate(), lastDay);
  const shifted = Date.UTC(
    y,
    m,
    day,
    local.getUTCHours(),
    local.getUTCMinutes(),
    local.getUTCSeconds(),
    local.getUTCMilliseconds(),
  );
  return shifted - LOCAL_OFFSET_MS;
}
