/**
 * Identifier checks applied on delivery (DOMAIN.md §3): GB 11643-1999 citizen ID numbers,
 * GB 32100-2015 unified social credit codes, Luhn bank card numbers and mainland mobile numbers.
 *
 * Pure functions. Failure reasons are short English sentences that may reach logs and API
 * responses, so they never repeat the checked value; at most they name a position, the expected
 * check character, never any part of the value.
 */
import type { ValueCheck } from '../catalog/Catalog';

/** GB 11643-1999 §8.2: weights W_i = 2^(i-1) mod 11 for positions 1..17, left to right. */
const ID_WEIGHTS: readonly number[] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** GB 11643-1999: check character indexed by Σ(a_i·W_i) mod 11. */
const ID_CHECK_CHARS = '10X98765432';

/** GB 32100-2015 §4: the 31 characters a credit code may use (no I, O, S, V, Z). */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** GB 32100-2015 §5: weights W_i = 3^(i-1) mod 31 for positions 1..17. */
const USCC_WEIGHTS: readonly number[] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Character code → value in {@link USCC_ALPHABET}, −1 outside it. */
const USCC_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let v = 0; v < USCC_ALPHABET.length; v++) t[USCC_ALPHABET.charCodeAt(v)] = v;
  return t;
})();

const CHINA_OFFSET_MS = 8 * 3600 * 1000;
/** Sanity floor for a birth year; GB 11643 sets none, but older dates are data errors. */
const MIN_BIRTH_YEAR = 1800;

const MOBILE = /^1[3-9]\d{9}$/;

/**
 * GB 11643-1999 check character for the first 17 digits of an ID number:
 * `"10X98765432"[Σ(a_i·W_i) mod 11]`. Throws a RangeError unless given exactly 17 digits.
 */
export function idNumberCheckDigit(first17: string): string {
  if (first17.length !== 17) throw new RangeError('idNumberCheckDigit expects exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const d = first17.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new RangeError('idNumberCheckDigit expects exactly 17 digits');
    sum += d * ID_WEIGHTS[i];
  }
  return ID_CHECK_CHARS[sum % 11];
}

/**
 * True for a valid 18-character GB 11643-1999 citizen ID number: area code of 6 digits not
 * starting with 0, a real birth date (YYYYMMDD, positions 7–14) not after `today` in China
 * time, 3 sequence digits and a matching check character (digit or upper-case `X`).
 * 15-digit numbers of the 1984 scheme are rejected.
 */
export function isValidIdNumber(s: string, today: Date = new Date()): boolean {
  return idNumberProblem(s, today) === null;
}

/**
 * GB 32100-2015 check character for the first 17 characters of a unified social credit code:
 * `31 − (Σ(c_i·W_i) mod 31)`, where 31 maps to `0`. Throws a RangeError unless given
 * 17 characters of the code alphabet.
 */
export function usccCheckChar(first17: string): string {
  if (first17.length !== 17) throw new RangeError('usccCheckChar expects exactly 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const code = first17.charCodeAt(i);
    const v = code < 128 ? USCC_VALUE[code] : -1;
    if (v < 0) throw new RangeError(`usccCheckChar: position ${i + 1} is outside the GB 32100 alphabet`);
    sum += v * USCC_WEIGHTS[i];
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/**
 * True for a valid GB 32100-2015 unified social credit code: 18 characters of
 * `0123456789ABCDEFGHJKLMNPQRTUWXY`, digits at positions 3–8 (administrative area code) and
 * a matching check character at position 18.
 */
export function isValidUscc(s: string): boolean {
  return usccProblem(s) === null;
}

/** True for 12–19 digits passing the Luhn (ISO/IEC 7812-1 Annex B) check. */
export function isValidBankCard(s: string): boolean {
  return bankCardProblem(s) === null;
}

/** True for a mainland mobile number: `^1[3-9]\d{9}$` (no `+86`, blanks or dashes). */
export function isValidMobile(s: string): boolean {
  return MOBILE.test(s);
}

/**
 * Applies one catalog value check (DOMAIN.md §3). Returns null when the value is valid,
 * otherwise a short English reason that names positions or the expected check character but
 * never repeats the value. `today` bounds ID birth dates (defaults to now).
 */
export function checkValue(rule: ValueCheck, value: string, today: Date = new Date()): string | null {
  switch (rule) {
    case 'ID_NUMBER':
      return idNumberProblem(value, today);
    case 'USCC':
      return usccProblem(value);
    case 'MOBILE':
      return mobileProblem(value);
    case 'BANK_CARD':
      return bankCardProblem(value);
    default: {
      const unknown: never = rule;
      return `unknown value check ${String(unknown)}`;
    }
  }
}

function idNumberProblem(s: string, today: Date): string | null {
  if (s.length !== 18) return `ID number must be 18 characters, got ${s.length}`;
  for (let i = 0; i < 17; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return `ID number position ${i + 1} must be a digit`;
  }
  const last = s[17];
  if (last === 'x') return 'ID number check character must be upper-case X';
  if (!/[0-9X]/.test(last)) return 'ID number position 18 must be a digit or X';
  if (s[0] === '0') return 'ID number area code must not start with 0';

  const birth = s.slice(6, 14);
  const y = Number(birth.slice(0, 4));
  const m = Number(birth.slice(4, 6));
  const d = Number(birth.slice(6, 8));
  if (y < MIN_BIRTH_YEAR) return `birth year is before ${MIN_BIRTH_YEAR}`;
  if (!isCalendarDate(y, m, d)) return 'birth date (positions 7–14) is not a real calendar date';
  if (birth > chinaDateKey(today)) return 'birth date is in the future';

  const expected = idNumberCheckDigit(s.slice(0, 17));
  if (last !== expected) return `ID number check digit should be ${expected}`;
  return null;
}

function usccProblem(s: string): string | null {
  if (s.length !== 18) return `credit code must be 18 characters, got ${s.length}`;
  for (let i = 0; i < 18; i++) {
    const c = s[i];
    if (USCC_ALPHABET.includes(c)) continue;
    if ('IOSVZ'.includes(c)) return `credit code contains I/O/S/V/Z (position ${i + 1})`;
    if (c >= 'a' && c <= 'z') return `credit code must be upper case (position ${i + 1})`;
    return `credit code position ${i + 1} is outside the GB 32100 alphabet`;
  }
  if (!/^\d{6}$/.test(s.slice(2, 8))) return 'credit code area code (positions 3-8) must be digits';
  const expected = usccCheckChar(s.slice(0, 17));
  if (s[17] !== expected) return `credit code check character should be ${expected}`;
  return null;
}

function bankCardProblem(s: string): string | null {
  if (!/^\d+$/.test(s)) return 'bank card number must contain only digits';
  if (s.length < 12 || s.length > 19) return `bank card number must be 12-19 digits, got ${s.length}`;
  let sum = 0;
  let double = false;
  for (let i = s.length - 1; i >= 0; i--) {
    let v = s.charCodeAt(i) - 48;
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return sum % 10 === 0 ? null : 'bank card number fails the Luhn check';
}

function mobileProblem(s: string): string | null {
  if (MOBILE.test(s)) return null;
  if (!/^\d+$/.test(s)) return 'mobile number must contain only digits';
  if (s.length !== 11) return `mobile number must be 11 digits, got ${s.length}`;
  return 'mobile number must start with 13-19';
}

function isCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/** `YYYYMMDD` of an instant in China Standard Time (UTC+8, no DST). */
function chinaDateKey(t: Date): string {
  const c = new Date(t.getTime() + CHINA_OFFSET_MS);
  return (
    String(c.getUTCFullYear()).padStart(4, '0') +
    String(c.getUTCMonth() + 1).padStart(2, '0') +
    String(c.getUTCDate()).padStart(2, '0')
  );
}
