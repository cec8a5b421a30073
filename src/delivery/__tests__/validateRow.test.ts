import type { FieldType } from '../../catalog/Catalog';
import { buildRowValidator, encodeCopyRow, escapeCopyText, MAX_TEXT_LENGTH, type RowResult } from '../validateRow';
import { breakCheckChar, FIELD_NAMES, licence, licenceDataset, validIdNumber, validUscc } from './deliveryFixture';

const validator = buildRowValidator(licenceDataset, { today: new Date('2026-11-27T00:00:00Z') });
const csv = validator.bindCsvHeader(FIELD_NAMES);
const FIELD_OF_TYPE: Record<FieldType, string> = {
  STRING: 'district',
  INT: 'staffCount',
  FLOAT: 'score',
  DECIMAL: 'capital',
  BOOLEAN: 'active',
  DATE: 'issuedOn',
  DATETIME: 'checkedAt',
};

function cellsWith(name: string, value: string): string[] {
  const record = licence(1);
  return FIELD_NAMES.map((f) => (f === name ? value : String(record[f] ?? '')));
}

function valueOf(result: RowResult, name: string): string | null {
  if (!result.ok) throw new Error(`expected a valid row, got ${JSON.stringify(result.problems)}`);
  return result.values[FIELD_NAMES.indexOf(name)];
}

describe('buildRowValidator', () => {
  describe('accepts and normalises CSV text', () => {
    it.each<[FieldType, string, string | null]>([
      ['INT', '42', '42'],
      ['INT', '-2147483648', '-2147483648'],
      ['INT', '007', '7'],
      ['FLOAT', '1.5', '1.5'],
      ['FLOAT', '-.5e3', '-500'],
      ['FLOAT', '0.0', '0'],
      ['DECIMAL', '-1234.5600', '-1234.5600'],
      ['DECIMAL', '99999999999999999999999.1', '99999999999999999999999.1'],
      ['BOOLEAN', 'true', 't'],
      ['BOOLEAN', 'FALSE', 'f'],
      ['BOOLEAN', '1', 't'],
      ['BOOLEAN', '0', 'f'],
      ['DATE', '2024-02-29', '2024-02-29'],
      ['DATETIME', '2024-02-29T23:59:59Z', '2024-02-29T23:59:59Z'],
      ['DATETIME', '2024-02-29 08:00:00.123456+08:00', '2024-02-29 08:00:00.123456+08:00'],
      ['DATETIME', '2024-02-29T08:00-0530', '2024-02-29T08:00-0530'],
      ['STRING', '惠州 "quoted"\ttab', '惠州 "quoted"\ttab'],
      ['STRING', '', null],
    ])('%s %j', (type, text, expected) => {
      expect(valueOf(csv.validateCells(cellsWith(FIELD_OF_TYPE[type], text), 1), FIELD_OF_TYPE[type])).toBe(expected);
    });
  });

  describe('rejects a wrong value with a reason that does not repeat it', () => {
    it.each<[FieldType | 'ID' | 'USCC', string, string]>([
      ['INT', '1.0', 'expected an integer'],
      ['INT', '2147483648', 'integer out of the 32-bit range'],
      ['INT', ' 4', 'expected an integer'],
      ['INT', '0x1F', 'expected an integer'],
      ['FLOAT', 'NaN', 'expected a number'],
      ['FLOAT', 'Infinity', 'expected a number'],
      ['FLOAT', '1e400', 'number out of range for double precision'],
      ['FLOAT', '1e-400', 'number out of range for double precision'],
      ['DECIMAL', '1,000.5', 'expected a decimal number such as -1234.56'],
      ['DECIMAL', '1e5', 'expected a decimal number such as -1234.56'],
      ['DECIMAL', '.25', 'expected a decimal number such as -1234.56'],
      ['BOOLEAN', 'yes', 'expected true, false, 1 or 0'],
      ['DATE', '2023-02-29', 'expected a real calendar date YYYY-MM-DD'],
      ['DATE', '0000-01-01', 'expected a real calendar date YYYY-MM-DD'],
      ['DATE', '2024/01/31', 'expected a date YYYY-MM-DD'],
      ['DATE', '20240131', 'expected a date YYYY-MM-DD'],
      ['DATETIME', '2024-01-31T08:00:00', 'expected an ISO 8601 date-time with a time zone'],
      ['DATETIME', '2024-01-31T24:00:00Z', 'expected an ISO 8601 date-time with a time zone'],
      ['DATETIME', '2024-02-30T08:00:00Z', 'expected an ISO 8601 date-time with a time zone'],
      ['DATETIME', '2024-01-31T08:00:00+15:00', 'expected an ISO 8601 date-time with a time zone'],
      ['STRING', 'nul\u0000byte', 'text contains a NUL character'],
      ['STRING', 'x'.repeat(MAX_TEXT_LENGTH + 1), `text longer than ${MAX_TEXT_LENGTH} characters`],
      ['ID', breakCheckChar(validIdNumber(5)), 'ID number check digit should be'],
      ['ID', validIdNumber(5).slice(0, 17), 'ID number must be 18 characters'],
      ['USCC', breakCheckChar(validUscc(5)), 'credit code check character should be'],
      ['USCC', `${validUscc(5).slice(0, 9)}O${validUscc(5).slice(10)}`, 'credit code contains I/O/S/V/Z'],
    ])('%s %j', (type, text, reason) => {
      const name = type === 'ID' ? 'holderIdNumber' : type === 'USCC' ? 'uscc' : FIELD_OF_TYPE[type];
      const result = csv.validateCells(cellsWith(name, text), 9);
      expect(result).toEqual({ ok: false, problems: [{ row: 9, field: name, reason: expect.stringContaining(reason) }] });
      if (!result.ok) expect(result.problems[0].reason).not.toContain(text);
    });
  });

  it('requires key and required fields', () => {
    const result = csv.validateCells(cellsWith('uscc', ''), 3);
    expect(result).toEqual({ ok: false, problems: [{ row: 3, field: 'uscc', reason: 'required value missing' }] });
    expect(validator.validateRecord({ ...licence(1), name: '' }, 4)).toEqual({
      ok: false,
      problems: [{ row: 4, field: 'name', reason: 'required value missing' }],
    });
  });

  it('reports every problem of a row', () => {
    const cells = cellsWith('staffCount', 'x');
    cells[FIELD_NAMES.indexOf('name')] = '';
    const result = csv.validateCells(cells, 2);
    expect(result.ok ? [] : result.problems.map((p) => p.field)).toEqual(['name', 'staffCount']);
  });

  describe('JSON records', () => {
    it.each<[string, unknown, string | null]>([
      ['staffCount', 12, '12'],
      ['staffCount', '12', '12'],
      ['score', 0.1, '0.1'],
      ['capital', 12.5, '12.5'],
      ['active', false, 'f'],
      ['active', 'true', 't'],
      ['district', null, null],
      ['district', undefined, null],
    ])('%s %j', (name, value, expected) => {
      expect(valueOf(validator.validateRecord({ ...licence(1), [name]: value }, 1), name)).toBe(expected);
    });

    it.each<[string, unknown, string]>([
      ['staffCount', 1.5, 'expected an integer'],
      ['staffCount', true, 'expected an integer'],
      ['score', 'abc', 'expected a number'],
      ['active', 1, 'expected true or false'],
      ['district', 42, 'expected a string'],
      ['issuedOn', 20240101, 'expected a date YYYY-MM-DD'],
      ['district', { nested: true }, 'expected a single value, not an object or array'],
      ['district', ['a'], 'expected a single value, not an object or array'],
    ])('%s %j is rejected', (name, value, reason) => {
      expect(validator.validateRecord({ ...licence(1), [name]: value }, 5)).toEqual({ ok: false, problems: [{ row: 5, field: name, reason }] });
    });

    it('reports unknown fields', () => {
      expect(validator.validateRecord({ ...licence(1), colour: 'red' }, 2)).toEqual({
        ok: false,
        problems: [{ row: 2, field: 'colour', reason: 'unknown field' }],
      });
    });
  });

  describe('CSV header', () => {
    it('ignores blanks around names and finds unknown, repeated and missing columns', () => {
      const layout = validator.bindCsvHeader([' uscc ', 'district', 'district', 'colour']);
      expect(layout.problems).toEqual([
        { row: 0, line: 1, field: 'district', reason: 'column appears more than once in the header' },
        { row: 0, line: 1, field: 'colour', reason: 'unknown column' },
        { row: 0, line: 1, field: 'name', reason: 'required column missing from the header' },
      ]);
    });

    it('reads columns in any order and leaves absent optional columns null', () => {
      const layout = validator.bindCsvHeader(['name', 'uscc']);
      const result = layout.validateCells(['某公司', validUscc(1)], 1);
      expect(result).toEqual({ ok: true, values: [validUscc(1), '某公司', null, null, null, null, null, null, null, null] });
    });
  });
});

describe('COPY text encoding', () => {
  it.each([
    ['plain', 'plain'],
    ['tab\there', 'tab\\there'],
    ['new\nline\r', 'new\\nline\\r'],
    ['back\\slash \\N', 'back\\\\slash \\\\N'],
  ])('escapes %j', (value, expected) => {
    expect(escapeCopyText(value)).toBe(expected);
  });

  it('writes null as \\N and ends the row with a newline', () => {
    expect(encodeCopyRow('7\t\\N', ['a', null, 'b\tc'])).toBe('7\t\\N\ta\t\\N\tb\\tc\n');
  });
});
