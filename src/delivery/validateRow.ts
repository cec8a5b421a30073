/**
 * Row validation for data delivery (汇聚, R5): turns one delivered record into the normalised
 * text PostgreSQL accepts for each column of the dataset, or into a list of problems.
 *
 * Pure. Problem reasons may be logged and returned to the delivering department, and values
 * may be personal information (PIPL art. 4), so a reason NEVER repeats the value it rejects:
 * it names the field, the expected form or the failed rule only.
 */
import type { CatalogDataset, CatalogField, FieldType } from '../catalog/Catalog';
import { columnName } from '../graphql/naming';
import { checkValue } from '../validation/checksums';

/**
 * One problem in a delivery. `row` is the 1-based index of the data row (a CSV header does
 * not count; 0 means the file or the header as a whole); `line` is the physical line where the
 * row starts in a CSV or NDJSON file, when there is one. `field` is the GraphQL field name.
 */
export interface RowProblem {
  row: number;
  line?: number;
  field?: string;
  reason: string;
}

/** A validated row: one normalised text value (or null) per dataset field, in catalog order. */
export type RowResult =
  | { ok: true; values: (string | null)[] }
  | { ok: false; problems: RowProblem[] };

/** Longest text accepted in one value (characters); longer values are data errors, not data. */
export const MAX_TEXT_LENGTH = 10_000;

/** Longest field name echoed back in an "unknown field" problem. */
const MAX_NAME_ECHO = 64;

export interface RowValidatorOptions {
  /** Cap on the length of any one value, in characters (default MAX_TEXT_LENGTH). */
  maxTextLength?: number;
  /** "Today" for ID-number birth dates (default: the time the validator is built). */
  today?: Date;
}

/** The columns of a CSV file matched against the catalog; see RowValidator.bindCsvHeader. */
export interface CsvLayout {
  /** Header problems (unknown, repeated or missing columns), reported once with row 0, line 1. */
  readonly problems: readonly RowProblem[];
  /** Validates the cells of one data row (all strings; an empty cell is null). */
  validateCells(cells: readonly string[], row: number): RowResult;
}

export interface RowValidator {
  /** The dataset's fields in catalog order; `values` of a RowResult follow this order. */
  readonly fields: readonly CatalogField[];
  /** PostgreSQL column names of `fields`, same order. */
  readonly columns: readonly string[];
  /**
   * Validates a JSON record (GraphQL input or an NDJSON line) keyed by GraphQL field names.
   * Values may be strings (read exactly like CSV text; "" is no value), numbers, booleans or
   * null/absent (no value).
   */
  validateRecord(record: Readonly<Record<string, unknown>>, row: number): RowResult;
  /** Matches a CSV header (GraphQL field names, surrounding blanks ignored) to the fields. */
  bindCsvHeader(header: readonly string[]): CsvLayout;
  /**
   * encodeCopyRow for this dataset's values: only STRING values can hold characters COPY
   * escapes (the other types passed their patterns), so only they are looked at.
   */
  encodeCopyRow(leading: string, values: readonly (string | null)[]): string;
}

/** A rejected value; instances for fixed reasons are shared, so validation allocates nothing. */
class Invalid {
  constructor(readonly reason: string) {}
}

const MISSING = new Invalid('required value missing');
const NOT_INT = new Invalid('expected an integer');
const INT_RANGE = new Invalid('integer out of the 32-bit range');
const NOT_FLOAT = new Invalid('expected a number');
const FLOAT_RANGE = new Invalid('number out of range for double precision');
const NOT_DECIMAL = new Invalid('expected a decimal number such as -1234.56');
const NOT_BOOLEAN_TEXT = new Invalid('expected true, false, 1 or 0');
const NOT_BOOLEAN_JSON = new Invalid('expected true or false');
const NOT_DATE = new Invalid('expected a date YYYY-MM-DD');
const NOT_CALENDAR_DATE = new Invalid('expected a real calendar date YYYY-MM-DD');
const NOT_DATETIME = new Invalid('expected an ISO 8601 date-time with a time zone, such as 2024-01-31T08:30:00+08:00');
const NOT_STRING = new Invalid('expected a string');
const HAS_NUL = new Invalid('text contains a NUL character');
const NOT_SCALAR = new Invalid('expected a single value, not an object or array');

const INT_TEXT = /^-?\d{1,10}$/;
const FLOAT_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
// ISO 8601 / RFC 3339 with a mandatory zone; a space may replace the T (RFC 3339 §5.6 note).
const DATETIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

type TextParser = (s: string) => string | Invalid;

interface FieldCodec {
  field: CatalogField;
  required: boolean;
  /** Parses text (a CSV cell or a JSON string) into the normalised value. */
  text: TextParser;
  /** Parses a non-string, non-null JSON value. */
  json: (v: unknown) => string | Invalid;
}

/**
 * Builds the validator of one dataset (pure; build it once per delivery). Checks, per value:
 * required (key fields are always required), type (INT 32-bit integer, FLOAT finite number,
 * DECIMAL `^-?\d+(\.\d+)?$`, BOOLEAN true/false (1/0 as text), DATE real YYYY-MM-DD, DATETIME
 * ISO 8601 with an offset or Z), length (≤ maxTextLength characters, no NUL) and the field's
 * value check (`checkValue`). Unknown fields are problems.
 */
export function buildRowValidator(dataset: CatalogDataset, options: RowValidatorOptions = {}): RowValidator {
  const maxLength = options.maxTextLength ?? MAX_TEXT_LENGTH;
  const today = options.today ?? new Date();
  const tooLong = new Invalid(`text longer than ${maxLength} characters`);
  const fields = dataset.fields;
  const codecs: FieldCodec[] = fields.map((f) => buildCodec(f, tooLong, maxLength, today));
  const byName = new Map<string, number>(fields.map((f, i) => [f.name, i]));

  function validateRecord(record: Readonly<Record<string, unknown>>, row: number): RowResult {
    let problems: RowProblem[] | null = null;
    for (const key of Object.keys(record)) {
      if (!byName.has(key)) (problems ??= []).push({ row, field: echoName(key), reason: 'unknown field' });
    }
    const values: (string | null)[] = new Array(codecs.length);
    for (let i = 0; i < codecs.length; i++) {
      const c = codecs[i];
      const v = Object.prototype.hasOwnProperty.call(record, c.field.name) ? record[c.field.name] : null;
      let out: string | Invalid | null;
      // "" means no value, as an empty CSV cell does, so both channels read data alike.
      if (v === null || v === undefined || v === '') out = c.required ? MISSING : null;
      else if (typeof v === 'string') out = c.text(v);
      else out = c.json(v);
      if (out instanceof Invalid) (problems ??= []).push({ row, field: c.field.name, reason: out.reason });
      else values[i] = out;
    }
    return problems ? { ok: false, problems } : { ok: true, values };
  }

  function bindCsvHeader(header: readonly string[]): CsvLayout {
    const problems: RowProblem[] = [];
    const cellOf: number[] = new Array(codecs.length).fill(-1);
    const seen = new Set<string>();
    header.forEach((raw, cell) => {
      const name = raw.trim();
      if (seen.has(name)) {
        problems.push({ row: 0, line: 1, field: echoName(name), reason: 'column appears more than once in the header' });
        return;
      }
      seen.add(name);
      const i = byName.get(name);
      if (i === undefined) problems.push({ row: 0, line: 1, field: echoName(name), reason: 'unknown column' });
      else cellOf[i] = cell;
    });
    codecs.forEach((c, i) => {
      if (cellOf[i] < 0 && c.required) {
        problems.push({ row: 0, line: 1, field: c.field.name, reason: 'required column missing from the header' });
      }
    });
    const width = header.length;

    function validateCells(cells: readonly string[], row: number): RowResult {
      if (cells.length !== width) {
        return { ok: false, problems: [{ row, reason: `row has ${cells.length} values but the header has ${width} columns` }] };
      }
      let problems: RowProblem[] | null = null;
      const values: (string | null)[] = new Array(codecs.length);
      for (let i = 0; i < codecs.length; i++) {
        const at = cellOf[i];
        const c = codecs[i];
        let out: string | Invalid | null;
        if (at < 0) {
          // A missing required column is reported once, with the header.
          out = null;
        } else {
          const s = cells[at];
          // CSV cannot tell an empty string from no value: an empty cell is null.
          out = s.length === 0 ? (c.required ? MISSING : null) : c.text(s);
        }
        if (out instanceof Invalid) (problems ??= []).push({ row, field: c.field.name, reason: out.reason });
        else values[i] = out;
      }
      return problems ? { ok: false, problems } : { ok: true, values };
    }

    return { problems, validateCells };
  }

  const isText = fields.map((f) => f.type === 'STRING');
  function encodeRow(leading: string, values: readonly (string | null)[]): string {
    const cells: string[] = new Array(values.length + 1);
    cells[0] = leading;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      cells[i + 1] = v === null ? '\\N' : isText[i] ? escapeCopyText(v) : v;
    }
    return `${cells.join('\t')}\n`;
  }

  return { fields, columns: fields.map((f) => columnName(f.name)), validateRecord, bindCsvHeader, encodeCopyRow: encodeRow };
}

function buildCodec(field: CatalogField, tooLong: Invalid, maxLength: number, today: Date): FieldCodec {
  const base = TEXT_PARSERS[field.type];
  const check = field.check;
  const text: TextParser = (s) => {
    if (s.length > maxLength) return tooLong;
    const v = base(s);
    if (v instanceof Invalid || check === undefined) return v;
    const reason = checkValue(check, v, today);
    return reason === null ? v : new Invalid(reason);
  };
  const json = (v: unknown): string | Invalid => {
    if (typeof v === 'object') return NOT_SCALAR;
    const out = JSON_PARSERS[field.type](v);
    if (out instanceof Invalid || check === undefined) return out;
    const reason = checkValue(check, out, today);
    return reason === null ? out : new Invalid(reason);
  };
  return { field, required: field.required || field.isKey, text, json };
}

const TEXT_PARSERS: Record<FieldType, TextParser> = {
  STRING: (s) => (s.indexOf('\u0000') === -1 ? s : HAS_NUL),
  INT: parseIntText,
  FLOAT: parseFloatText,
  DECIMAL: (s) => (DECIMAL_TEXT.test(s) ? s : NOT_DECIMAL),
  BOOLEAN: (s) => {
    switch (s.length <= 5 ? s.toLowerCase() : '') {
      case 'true':
      case '1':
        return 't';
      case 'false':
      case '0':
        return 'f';
      default:
        return NOT_BOOLEAN_TEXT;
    }
  },
  DATE: parseDateText,
  DATETIME: parseDateTimeText,
};

const JSON_PARSERS: Record<FieldType, (v: unknown) => string | Invalid> = {
  STRING: () => NOT_STRING,
  INT: (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return NOT_INT;
    return v >= -2147483648 && v <= 2147483647 ? String(v) : INT_RANGE;
  },
  FLOAT: (v) => (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : FLOAT_RANGE) : NOT_FLOAT),
  // JSON numbers are already IEEE doubles; String() gives the shortest exact text, which
  // PostgreSQL's numeric input reads (it accepts the exponent form too).
  DECIMAL: (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : NOT_DECIMAL),
  BOOLEAN: (v) => (typeof v === 'boolean' ? (v ? 't' : 'f') : NOT_BOOLEAN_JSON),
  DATE: () => NOT_DATE,
  DATETIME: () => NOT_DATETIME,
};

function parseIntText(s: string): string | Invalid {
  if (!INT_TEXT.test(s)) return NOT_INT;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? String(n) : INT_RANGE;
}

function parseFloatText(s: string): string | Invalid {
  const m = FLOAT_TEXT.exec(s);
  if (m === null) return NOT_FLOAT;
  const n = Number(s);
  if (!Number.isFinite(n)) return FLOAT_RANGE;
  // PostgreSQL rejects a non-zero literal that underflows to 0 ("out of range").
  if (n === 0 && /[1-9]/.test(m[1] === undefined ? s : s.slice(0, s.length - m[1].length))) return FLOAT_RANGE;
  return String(n);
}

function parseDateText(s: string): string | Invalid {
  const m = DATE_TEXT.exec(s);
  if (m === null) return NOT_DATE;
  return isCalendarDate(+m[1], +m[2], +m[3]) ? s : NOT_CALENDAR_DATE;
}

function parseDateTimeText(s: string): string | Invalid {
  const m = DATETIME_TEXT.exec(s);
  if (m === null || !isCalendarDate(+m[1], +m[2], +m[3])) return NOT_DATETIME;
  if (+m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) return NOT_DATETIME;
  // Real zone offsets lie within ±14:00.
  if (m[7] !== undefined && (+m[7] > 14 || +m[8] > 59)) return NOT_DATETIME;
  return s;
}

/** Year 1–9999 (PostgreSQL has no year 0), month 1–12, day within the month. */
function isCalendarDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const days = m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  return d <= days;
}

function echoName(name: string): string {
  return name.length <= MAX_NAME_ECHO ? name : `${name.slice(0, MAX_NAME_ECHO)}…`;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Escapes one value for PostgreSQL COPY text format (backslash, tab, newline and carriage
 * return; PostgreSQL docs "COPY", File Formats / Text Format).
 */
export function escapeCopyText(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]) : s;
}

/**
 * One line of COPY text: the given leading columns (row bookkeeping, already safe text), then
 * the values, tab-separated, null as `\N`, ending in a newline.
 */
export function encodeCopyRow(leading: string, values: readonly (string | null)[]): string {
  const cells: string[] = new Array(values.length + 1);
  cells[0] = leading;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    cells[i + 1] = v === null || v === undefined ? '\\N' : escapeCopyText(v);
  }
  return `${cells.join('\t')}\n`;
}
