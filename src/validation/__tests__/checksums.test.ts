import {
  checkValue,
  idNumberCheckDigit,
  isValidBankCard,
  isValidIdNumber,
  isValidMobile,
  isValidUscc,
  usccCheckChar,
} from '../checksums';

/** Fixed "today" so the future-birth-date cases do not depend on the clock. */
const TODAY = new Date('2026-11-27T12:00:00+08:00');

/** Builds a synthetic ID number from its parts with the right check digit. */
function idNumber(area: string, birth: string, seq: string): string {
  const first17 = area + birth + seq;
  return first17 + idNumberCheckDigit(first17);
}

/** Replaces the character at 1-based `position`. */
function withChar(s: string, position: number, c: string): string {
  return s.slice(0, position - 1) + c + s.slice(position);
}

describe('idNumberCheckDigit (GB 11643-1999)', () => {
  it.each([
    // Σ(a_i·W_i) mod 11 → "10X98765432"; sums worked out by hand below.
    ['00000000000000000', '1'], // Σ = 0
    ['10000000000000000', '5'], // Σ = 7
    ['00000000000000001', 'X'], // Σ = 2
    ['00000000000000010', '8'], // Σ = 4
    ['01000000000000000', '3'], // Σ = 9
  ])('check digit of %s is %s', (first17, expected) => {
    expect(idNumberCheckDigit(first17)).toBe(expected);
  });

  it('rejects input that is not 17 digits', () => {
    expect(() => idNumberCheckDigit('1234')).toThrow(RangeError);
    expect(() => idNumberCheckDigit('4413021990010112A')).toThrow(RangeError);
  });
});

describe('isValidIdNumber', () => {
  const good = [
    idNumber('441302', '19900101', '123'),
    idNumber('441322', '20000229', '004'), // leap day
    idNumber('110105', '19491001', '002'),
    idNumber('441303', '20261127', '001'), // born "today"
  ];

  it.each(good)('accepts %s', (id) => {
    expect(isValidIdNumber(id, TODAY)).toBe(true);
    expect(checkValue('ID_NUMBER', id, TODAY)).toBeNull();
  });

  it('accepts an X check character', () => {
    // Find a sequence code whose check character is X.
    let id = '';
    for (let seq = 0; seq < 1000 && !id.endsWith('X'); seq++) id = idNumber('441302', '19851203', String(seq).padStart(3, '0'));
    expect(id.endsWith('X')).toBe(true);
    expect(isValidIdNumber(id, TODAY)).toBe(true);
  });

  const base = idNumber('441302', '19900101', '123');
  const wrongCheck = withChar(base, 18, base[17] === '0' ? '1' : '0');
  const xId = (() => {
    for (let seq = 0; seq < 1000; seq++) {
      const id = idNumber('441324', '19770615', String(seq).padStart(3, '0'));
      if (id.endsWith('X')) return id;
    }
    throw new Error('no X found');
  })();

  it.each<[string, string, string]>([
    ['too short', base.slice(0, 17), 'ID number must be 18 characters, got 17'],
    ['15-digit old format', '441302900101123', 'ID number must be 18 characters, got 15'],
    ['a letter in the body', withChar(base, 5, 'A'), 'ID number position 5 must be a digit'],
    ['lower-case x', xId.slice(0, 17) + 'x', 'ID number check character must be upper-case X'],
    ['a letter as check', withChar(base, 18, 'Y'), 'ID number position 18 must be a digit or X'],
    ['area code starting with 0', idNumber('041302', '19900101', '123'), 'ID number area code must not start with 0'],
    ['30 February', idNumber('441302', '19990230', '123'), 'birth date (positions 7–14) is not a real calendar date'],
    ['29 February of a common year', idNumber('441302', '19990229', '123'), 'birth date (positions 7–14) is not a real calendar date'],
    ['month 13', idNumber('441302', '19991301', '123'), 'birth date (positions 7–14) is not a real calendar date'],
    ['day 00', idNumber('441302', '19990100', '123'), 'birth date (positions 7–14) is not a real calendar date'],
    ['birth year 1799', idNumber('441302', '17991231', '123'), 'birth year is before 1800'],
    ['birth date tomorrow', idNumber('441302', '20261128', '123'), 'birth date is in the future'],
    ['wrong check digit', wrongCheck, `ID number check digit should be ${base[17]}`],
  ])('rejects %s', (_case, id, reason) => {
    expect(isValidIdNumber(id, TODAY)).toBe(false);
    expect(checkValue('ID_NUMBER', id, TODAY)).toBe(reason);
  });

  it('compares the birth date with today in China time', () => {
    const id = idNumber('441302', '20261128', '123');
    // 2026-11-27T16:30Z is already 2026-11-28 00:30 in Huizhou.
    expect(isValidIdNumber(id, new Date('2026-11-27T16:30:00Z'))).toBe(true);
    expect(isValidIdNumber(id, new Date('2026-11-27T15:30:00Z'))).toBe(false);
  });

  it('defaults today to the current time', () => {
    expect(isValidIdNumber(idNumber('441302', '19900101', '123'))).toBe(true);
    expect(isValidIdNumber(idNumber('441302', '29990101', '123'))).toBe(false);
  });
});

describe('usccCheckChar / isValidUscc (GB 32100-2015)', () => {
  it.each([
    // Σ = 0 → 31 − 0 = 31 → 0
    ['00000000000000000', '0'],
    // Σ = 1·1 → 31 − 1 = 30 → Y
    ['10000000000000000', 'Y'],
    // Σ = 1·3 (position 2) → 28 → W
    ['01000000000000000', 'W'],
    // Σ = 28·1 (position 17) → 3
    ['00000000000000001', '3'],
  ])('check character of %s is %s', (first17, expected) => {
    expect(usccCheckChar(first17)).toBe(expected);
  });

  it('rejects input that is not 17 alphabet characters', () => {
    expect(() => usccCheckChar('9144130')).toThrow(RangeError);
    expect(() => usccCheckChar('9144130000000000I')).toThrow(RangeError);
  });

  const good = ['91441300MA4UABCD1', '12441300007012345', '91110000100000000', '92441302MA5XYWQ0P'].map(
    (first17) => first17 + usccCheckChar(first17),
  );

  it.each(good)('accepts %s', (code) => {
    expect(isValidUscc(code)).toBe(true);
    expect(checkValue('USCC', code)).toBeNull();
  });

  const base = good[0];
  const wrong = withChar(base, 18, base[17] === 'A' ? 'B' : 'A');

  it.each<[string, string, string]>([
    ['too long', base + '0', 'credit code must be 18 characters, got 19'],
    ['an I', withChar(base, 10, 'I'), 'credit code contains I/O/S/V/Z (position 10)'],
    ['an O', withChar(base, 11, 'O'), 'credit code contains I/O/S/V/Z (position 11)'],
    ['an S', withChar(base, 12, 'S'), 'credit code contains I/O/S/V/Z (position 12)'],
    ['a V', withChar(base, 13, 'V'), 'credit code contains I/O/S/V/Z (position 13)'],
    ['a Z', withChar(base, 14, 'Z'), 'credit code contains I/O/S/V/Z (position 14)'],
    ['lower case', base.slice(0, 9) + base.slice(9).toLowerCase(), 'credit code must be upper case (position 10)'],
    ['a hyphen', withChar(base, 9, '-'), 'credit code position 9 is outside the GB 32100 alphabet'],
    ['a letter in the area code', withChar(base, 4, 'A'), 'credit code area code (positions 3-8) must be digits'],
    ['wrong check character', wrong, `credit code check character should be ${base[17]}`],
  ])('rejects %s', (_case, code, reason) => {
    expect(isValidUscc(code)).toBe(false);
    expect(checkValue('USCC', code)).toBe(reason);
  });
});

/** Appends the Luhn check digit to `body`. */
function luhnComplete(body: string): string {
  for (let d = 0; d <= 9; d++) if (isValidBankCard(body + d)) return body + d;
  throw new Error('unreachable');
}

describe('isValidBankCard (Luhn)', () => {
  it.each([
    '4111111111111111', // well-known test numbers
    '5555555555554444',
    '378282246310005',
    luhnComplete('62220200000000000'), // 18 digits
    luhnComplete('622202000000000012'), // 19 digits
    luhnComplete('10000000000'), // 12 digits
  ])(
    'accepts %s',
    (card) => {
      expect(isValidBankCard(card)).toBe(true);
      expect(checkValue('BANK_CARD', card)).toBeNull();
    },
  );

  it.each<[string, string, string]>([
    ['a wrong last digit', '4111111111111112', 'bank card number fails the Luhn check'],
    ['11 digits', '79927398713', 'bank card number must be 12-19 digits, got 11'],
    ['20 digits', '41111111111111111113', 'bank card number must be 12-19 digits, got 20'],
    ['blanks', '4111 1111 1111 1111', 'bank card number must contain only digits'],
    ['empty', '', 'bank card number must contain only digits'],
  ])('rejects %s', (_case, card, reason) => {
    expect(isValidBankCard(card)).toBe(false);
    expect(checkValue('BANK_CARD', card)).toBe(reason);
  });
});

describe('isValidMobile', () => {
  it.each(['13012345678', '19912345678', '16600000000'])('accepts %s', (m) => {
    expect(isValidMobile(m)).toBe(true);
    expect(checkValue('MOBILE', m)).toBeNull();
  });

  it.each<[string, string, string]>([
    ['second digit 2', '12012345678', 'mobile number must start with 13-19'],
    ['not starting with 1', '23012345678', 'mobile number must start with 13-19'],
    ['10 digits', '1301234567', 'mobile number must be 11 digits, got 10'],
    ['+86 prefix', '+8613012345678', 'mobile number must contain only digits'],
    ['dashes', '130-1234-5678', 'mobile number must contain only digits'],
  ])('rejects %s', (_case, m, reason) => {
    expect(isValidMobile(m)).toBe(false);
    expect(checkValue('MOBILE', m)).toBe(reason);
  });
});

describe('checkValue reasons', () => {
  const cases: [Parameters<typeof checkValue>[0], string][] = [
    ['ID_NUMBER', '441302199001011234'],
    ['ID_NUMBER', '44130219900101123'],
    ['USCC', '91441300MA4UABCD1Z'],
    ['USCC', '91441300MA4UABCD10'],
    ['BANK_CARD', '4111111111111112'],
    ['MOBILE', '12012345678'],
  ];

  it.each(cases)('never repeats the checked %s value', (rule, value) => {
    const reason = checkValue(rule, value, TODAY);
    expect(reason).not.toBeNull();
    expect(reason).not.toContain(value);
    // Nor a long run of it: at most 8 consecutive characters (an impossible birth date).
    for (let k = 0; k + 9 <= value.length; k++) expect(reason).not.toContain(value.slice(k, k + 9));
  });
});
