import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidIdNumber, isValidMobile, isValidUscc } from '../../validation/checksums';
import {
  BENCH_DISTRICTS,
  ENTERPRISE_COLUMNS,
  LICENSE_COLUMNS,
  referenceUscc,
  writeEnterprisesCsv,
  writeLicensesCsv,
} from '../benchDataset';
import {
  AIR_QUALITY_START,
  DEMO_AS_OF,
  DEMO_SIZES,
  HUIZHOU_DISTRICTS,
  aqiLevel,
  airQualities,
  computeAqi,
  enterpriseLicenses,
  enterpriseRow,
  enterprises,
  enterpriseUscc,
  householdRegistrations,
  realEstateRegistrations,
  socialInsurances,
  syntheticPerson,
  type EnterpriseLicenseRow,
  type EnterpriseRow,
} from '../syntheticData';

const SEED = 42;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MONEY = /^\d+\.\d{2}$/;
/** Generated ID numbers are checked against a fixed day after {@link DEMO_AS_OF}. */
const TODAY = new Date('2026-01-01T00:00:00+08:00');

const N_ENTERPRISES = 2000;
const enterpriseRows = [...enterprises(N_ENTERPRISES, SEED)];
const licenseRows = [...enterpriseLicenses(N_ENTERPRISES, SEED)];
const householdRows = [...householdRegistrations(3000, SEED)];
const insuranceRows = [...socialInsurances(3000, N_ENTERPRISES, SEED)];
const realEstateRows = [...realEstateRegistrations(2000, SEED)];
const airRows = [...airQualities(12, 48, SEED)];

/** Asserts `ok` for every row; on failure jest prints the first offending rows. */
function expectEvery<T>(rows: readonly T[], ok: (row: T) => boolean): void {
  expect(rows.filter((r) => !ok(r)).slice(0, 3)).toEqual([]);
}

function expectUnique(values: readonly unknown[]): void {
  expect(new Set(values).size).toBe(values.length);
}

/** GB 11643: positions 7–14 are the birth date, position 17 is odd for men. */
function consistentWithId(idNumber: string, gender: string, birthDate: string): boolean {
  return (
    birthDate === `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}` &&
    gender === (Number(idNumber[16]) % 2 === 1 ? '男' : '女')
  );
}

describe('determinism', () => {
  it('gives the same rows for the same seed', () => {
    expect([...enterprises(300, SEED)]).toEqual(enterpriseRows.slice(0, 300));
    expect([...enterpriseLicenses(N_ENTERPRISES, SEED)]).toEqual(licenseRows);
    expect([...householdRegistrations(3000, SEED)]).toEqual(householdRows);
    expect([...socialInsurances(3000, N_ENTERPRISES, SEED)]).toEqual(insuranceRows);
    expect([...realEstateRegistrations(2000, SEED)]).toEqual(realEstateRows);
    expect([...airQualities(12, 48, SEED)]).toEqual(airRows);
  });

  it('gives different rows for another seed but the same keys', () => {
    const other = [...enterprises(300, SEED + 1)];
    expect(other.map((r) => r.uscc)).toEqual(enterpriseRows.slice(0, 300).map((r) => r.uscc));
    expect(other.map((r) => r.name)).not.toEqual(enterpriseRows.slice(0, 300).map((r) => r.name));
  });

  it('computes row i on its own, as the sequence yields it', () => {
    for (const i of [1, 17, 1999]) expect(enterpriseRow(i, SEED)).toEqual(enterpriseRows[i - 1]);
  });

  it('does not depend on how many rows are asked for', () => {
    expect([...householdRegistrations(100, SEED)]).toEqual(householdRows.slice(0, 100));
    expect([...socialInsurances(100, N_ENTERPRISES, SEED)]).toEqual(insuranceRows.slice(0, 100));
    expect([...enterpriseLicenses(10, SEED)]).toEqual(licenseRows.filter((l) => enterpriseRows.slice(0, 10).some((e) => e.uscc === l.uscc)));
  });
});

describe('enterpriseUscc', () => {
  it('is a valid, strictly increasing (so unique) credit code for i in 1..2,000,000', () => {
    let previous = '';
    let invalid = 0;
    for (let i = 1; i <= 2_000_000; i++) {
      const code = enterpriseUscc(i);
      if (!(code > previous) || code.length !== 18 || !code.startsWith('91441300')) invalid++;
      if (i % 97 === 1 && !isValidUscc(code)) invalid++;
      previous = code;
    }
    expect(invalid).toBe(0);
  });

  it('rejects indexes outside 1..99,999,999', () => {
    expect(() => enterpriseUscc(0)).toThrow(RangeError);
    expect(() => enterpriseUscc(100_000_000)).toThrow(RangeError);
    expect(() => enterpriseUscc(1.5)).toThrow(RangeError);
  });
});

describe('enterprises', () => {
  it('keys enterprise i by enterpriseUscc(i), uniquely', () => {
    enterpriseRows.forEach((r, k) => expect(r.uscc).toBe(enterpriseUscc(k + 1)));
    expectUnique(enterpriseRows.map((r) => r.uscc));
  });

  it('has valid credit codes, ID numbers and mobiles', () => {
    expectEvery(enterpriseRows, (r) => isValidUscc(r.uscc));
    expectEvery(enterpriseRows, (r) => isValidIdNumber(r.legalRepIdNumber, TODAY));
    expectEvery(enterpriseRows, (r) => r.phone === null || isValidMobile(r.phone));
  });

  it('has about 5% missing phones', () => {
    const missing = enterpriseRows.filter((r) => r.phone === null).length / enterpriseRows.length;
    expect(missing).toBeGreaterThan(0.02);
    expect(missing).toBeLessThan(0.08);
  });

  it('has the documented formats and values', () => {
    const districts = new Set(HUIZHOU_DISTRICTS.map((d) => d.name));
    expectEvery(enterpriseRows, (r) => /^惠州市.+(有限公司|有限责任公司|股份有限公司)$/.test(r.name));
    expectEvery(enterpriseRows, (r) => MONEY.test(r.registeredCapital));
    expectEvery(enterpriseRows, (r) => DATE.test(r.establishedOn) && r.establishedOn <= DEMO_AS_OF);
    expectEvery(enterpriseRows, (r) => districts.has(r.district));
    expectEvery(enterpriseRows, (r) => ['存续', '在业', '注销', '吊销', '迁出'].includes(r.status));
    expectEvery(enterpriseRows, (r) => r.address.startsWith(`惠州市${r.district}`) && /\d+号$/.test(r.address));
    expect(new Set(enterpriseRows.map((r) => r.district)).size).toBe(districts.size);
  });

  it('uses only the given districts when asked', () => {
    const rows = [...enterprises(500, SEED, { districts: BENCH_DISTRICTS })];
    expectEvery(rows, (r) => BENCH_DISTRICTS.includes(r.district) && r.address.startsWith(`北京市${r.district}`));
    expectEvery(rows, (r) => isValidIdNumber(r.legalRepIdNumber, TODAY));
    expect(new Set(rows.map((r) => r.district)).size).toBe(16);
  });
});

describe('enterpriseLicenses', () => {
  const byUscc = new Map<string, EnterpriseRow>(enterpriseRows.map((r) => [r.uscc, r]));

  it('references existing enterprises only, 1–5 each with a mean near 3', () => {
    expectEvery(licenseRows, (l) => byUscc.has(l.uscc));
    const perEnterprise = new Map<string, number>();
    for (const l of licenseRows) perEnterprise.set(l.uscc, (perEnterprise.get(l.uscc) ?? 0) + 1);
    expect(perEnterprise.size).toBe(N_ENTERPRISES);
    expectEvery([...perEnterprise.values()], (n) => n >= 1 && n <= 5);
    const mean = licenseRows.length / N_ENTERPRISES;
    expect(mean).toBeGreaterThan(2.8);
    expect(mean).toBeLessThan(3.2);
  });

  it('has unique licence numbers', () => {
    expectUnique(licenseRows.map((l) => l.licenseNo));
  });

  it('gives every enterprise one 营业执照 without expiry and distinct other licences', () => {
    const types = new Map<string, string[]>();
    for (const l of licenseRows) types.set(l.uscc, [...(types.get(l.uscc) ?? []), l.licenseType]);
    expectEvery([...types.values()], (list) => list[0] === '营业执照' && new Set(list).size === list.length && !list.slice(1).includes('营业执照'));
    expectEvery(licenseRows, (l) => (l.validUntil === null) === (l.licenseType === '营业执照'));
  });

  it('has dates after the founding and statuses that fit them', () => {
    const founded = (l: EnterpriseLicenseRow): EnterpriseRow => byUscc.get(l.uscc)!;
    expectEvery(licenseRows, (l) => DATE.test(l.issuedOn) && l.issuedOn >= founded(l).establishedOn && l.issuedOn <= DEMO_AS_OF);
    expectEvery(licenseRows, (l) => l.validUntil === null || (DATE.test(l.validUntil) && l.validUntil > l.issuedOn));
    expectEvery(licenseRows, (l) => ['有效', '已过期', '已注销'].includes(l.status));
    expectEvery(licenseRows, (l) => l.status !== '已过期' || (l.validUntil !== null && l.validUntil < DEMO_AS_OF));
    expectEvery(licenseRows, (l) => !['注销', '吊销'].includes(founded(l).status) || l.status === '已注销');
    expectEvery(licenseRows, (l) => l.issuingAuthority.startsWith('惠州市'));
  });
});

describe('householdRegistrations', () => {
  it('has valid, unique ID numbers and unique record numbers', () => {
    expectEvery(householdRows, (r) => isValidIdNumber(r.idNumber, TODAY));
    expectUnique(householdRows.map((r) => r.idNumber));
    expectUnique(householdRows.map((r) => r.recordNo));
  });

  it('has gender and birth date consistent with the ID number', () => {
    expectEvery(householdRows, (r) => consistentWithId(r.idNumber, r.gender, r.birthDate));
    const men = householdRows.filter((r) => r.gender === '男').length / householdRows.length;
    expect(men).toBeGreaterThan(0.45);
    expect(men).toBeLessThan(0.55);
  });

  it('groups members in households of 1–5 sharing address and district', () => {
    const households = new Map<string, { address: string; district: string; size: number }>();
    for (const r of householdRows) {
      const h = households.get(r.householdNo);
      if (h) h.size++;
      else households.set(r.householdNo, { address: r.address, district: r.district, size: 1 });
    }
    expectEvery(householdRows, (r) => {
      const h = households.get(r.householdNo)!;
      return r.address === h.address && r.district === h.district;
    });
    expectEvery([...households.values()], (h) => h.size >= 1 && h.size <= 5);
    expect(households.size).toBeLessThan(householdRows.length);
  });

  it('registers people on or after their birth and by DEMO_AS_OF', () => {
    expectEvery(householdRows, (r) => DATE.test(r.registeredOn) && r.registeredOn >= r.birthDate && r.registeredOn <= DEMO_AS_OF);
    expectEvery(householdRows, (r) => r.address.startsWith(`惠州市${r.district}`));
  });

  it('is the same population as syntheticPerson', () => {
    householdRows.slice(0, 50).forEach((r, k) => {
      const p = syntheticPerson(k + 1, SEED);
      expect([r.idNumber, r.name, r.gender, r.birthDate]).toEqual([p.idNumber, p.name, p.gender, p.birthDate]);
    });
  });
});

describe('socialInsurances', () => {
  const enterpriseByUscc = new Map(enterpriseRows.map((r) => [r.uscc, r]));
  const residents = new Map(householdRows.map((r) => [r.idNumber, r]));

  it('has exactly the requested count, unique record ids and valid IDs', () => {
    expect(insuranceRows).toHaveLength(3000);
    expectUnique(insuranceRows.map((r) => r.recordId));
    expectEvery(insuranceRows, (r) => isValidIdNumber(r.idNumber, TODAY));
  });

  it('names employers among enterprises 1..enterpriseCount, started after their founding', () => {
    expectEvery(insuranceRows, (r) => {
      const employer = enterpriseByUscc.get(r.employerUscc);
      return employer !== undefined && r.startedOn >= employer.establishedOn && r.startedOn <= DEMO_AS_OF;
    });
  });

  it('enrols working-age residents under their registered name, once per insurance type', () => {
    expectUnique(insuranceRows.map((r) => `${r.idNumber}|${r.insuranceType}`));
    expectEvery(insuranceRows, (r) => Number(r.idNumber.slice(6, 10)) >= 1960 && Number(r.idNumber.slice(6, 10)) <= 2009);
    expectEvery(insuranceRows, (r) => residents.get(r.idNumber)?.name === undefined || residents.get(r.idNumber)?.name === r.name);
    expect(insuranceRows.filter((r) => residents.has(r.idNumber)).length).toBeGreaterThan(insuranceRows.length / 2);
    expectEvery(insuranceRows, (r) => ['养老保险', '医疗保险', '失业保险', '工伤保险', '生育保险'].includes(r.insuranceType));
    expectEvery(insuranceRows, (r) => ['参保缴费', '暂停缴费', '终止参保'].includes(r.status) && MONEY.test(r.monthlyBase));
  });
});

describe('realEstateRegistrations', () => {
  it('has unique certificate numbers in the 粤(YYYY)惠州市不动产权第NNNNNNN号 form', () => {
    expectUnique(realEstateRows.map((r) => r.certificateNo));
    expectEvery(realEstateRows, (r) => /^粤\(\d{4}\)惠州市不动产权第\d{7}号$/.test(r.certificateNo));
    expectEvery(realEstateRows, (r) => r.certificateNo.slice(2, 6) === r.registeredOn.slice(0, 4));
  });

  it('has adult owners with valid ID numbers and plausible values', () => {
    expectEvery(realEstateRows, (r) => isValidIdNumber(r.ownerIdNumber, TODAY));
    expectEvery(realEstateRows, (r) => {
      const adultOn = `${Number(r.ownerIdNumber.slice(6, 10)) + 18}-${r.ownerIdNumber.slice(10, 12)}-${r.ownerIdNumber.slice(12, 14)}`;
      return r.registeredOn >= adultOn && r.registeredOn <= DEMO_AS_OF;
    });
    expectEvery(realEstateRows, (r) => ['住宅', '商业', '办公', '工业'].includes(r.usage));
    expectEvery(realEstateRows, (r) => ['国有建设用地使用权/房屋所有权', '国有建设用地使用权'].includes(r.rightType));
    expectEvery(realEstateRows, (r) => r.area > 0 && Math.round(r.area * 100) / 100 === r.area);
    expectEvery(realEstateRows, (r) => r.location.startsWith(`惠州市${r.district}`));
  });
});

describe('airQualities', () => {
  it('yields stations × hours rows with unique ids built from station and hour', () => {
    expect(airRows).toHaveLength(12 * 48);
    expectUnique(airRows.map((r) => r.recordId));
    expect(airRows[0].observedAt).toBe(AIR_QUALITY_START);
    expectEvery(airRows, (r) => /^\d{4}-\d{2}-\d{2}T\d{2}:00:00\+08:00$/.test(r.observedAt));
    expectEvery(airRows, (r) => r.recordId === `${r.stationCode}-${r.observedAt.slice(0, 13).replace(/[-T]/g, '')}`);
    expect(airRows[airRows.length - 1].observedAt).toBe('2025-12-02T23:00:00+08:00');
  });

  it('has AQI, primary pollutant and level consistent with the concentrations (HJ 633-2012)', () => {
    expectEvery(airRows, (r) => {
      const { aqi, primaryPollutant } = computeAqi(r);
      return aqi === r.aqi && primaryPollutant === r.primaryPollutant && r.level === aqiLevel(r.aqi) && Number.isInteger(r.aqi);
    });
    expectEvery(airRows, (r) => [r.pm25, r.pm10, r.o3, r.no2, r.so2, r.co].every((v) => v >= 0) && r.pm10 >= r.pm25);
    expect(new Set(airRows.map((r) => r.level)).size).toBeGreaterThan(1);
  });

  it.each<[number, string]>([[0, '优'], [50, '优'], [51, '良'], [100, '良'], [101, '轻度污染'], [151, '中度污染'], [201, '重度污染'], [301, '严重污染']])(
    'rates AQI %i as %s',
    (aqi, level) => expect(aqiLevel(aqi)).toBe(level),
  );

  it('computes AQI from the breakpoints', () => {
    // PM2.5 75 µg/m³ is exactly IAQI 100; everything else lower.
    expect(computeAqi({ pm25: 75, pm10: 50, o3: 60, no2: 20, so2: 5, co: 0.5 })).toEqual({ aqi: 100, primaryPollutant: 'PM2.5' });
    expect(computeAqi({ pm25: 10, pm10: 20, o3: 60, no2: 20, so2: 5, co: 0.5 })).toEqual({ aqi: 20, primaryPollutant: null });
  });
});

describe('DEMO_SIZES', () => {
  it('adds up to tens of thousands of rows', () => {
    const total =
      DEMO_SIZES.enterprises +
      DEMO_SIZES.enterpriseLicensesExpected +
      DEMO_SIZES.householdRegistrations +
      DEMO_SIZES.socialInsurances +
      DEMO_SIZES.realEstateRegistrations +
      DEMO_SIZES.airQualityStations * DEMO_SIZES.airQualityHours;
    expect(total).toBeGreaterThan(20_000);
    expect(total).toBeLessThan(1_000_000);
  });
});

/** Minimal RFC 4180 reader for the round trip (CRLF rows, quoted fields with doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') (field += '"'), k++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[k + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), k++;
    else field += c;
  }
  return rows;
}

describe('bench CSV files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-csv-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the generated rows with a header of GraphQL field names', async () => {
    const path = join(dir, 'enterprises.csv');
    const result = await writeEnterprisesCsv(path, 300, SEED);
    expect(result.rows).toBe(300);
    const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
    expect(header).toEqual(ENTERPRISE_COLUMNS);
    expect(rows).toEqual(enterpriseRows.slice(0, 300).map((r) => ENTERPRISE_COLUMNS.map((c) => r[c] ?? '')));
    expect(result.bytes).toBe(readFileSync(path).length);
  });

  it('writes licences that reference the enterprises', async () => {
    const path = join(dir, 'licenses.csv');
    const result = await writeLicensesCsv(path, 300, SEED, { districts: BENCH_DISTRICTS });
    const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
    expect(header).toEqual(LICENSE_COLUMNS);
    expect(rows).toHaveLength(result.rows);
    const usccs = new Set(enterpriseRows.slice(0, 300).map((r) => r.uscc));
    expectEvery(rows, (row) => usccs.has(row[1]));
    expect(rows.some((row) => row[5] === '')).toBe(true); // null validUntil of 营业执照
  });

  it('quotes fields holding commas or quotes (RFC 4180)', async () => {
    const path = join(dir, 'quoted.csv');
    await writeEnterprisesCsv(path, 50, SEED, { districts: ['甲,区', '乙"区'] });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"甲,区"');
    expect(text).toContain('"乙""区"');
    const rows = parseCsv(text).slice(1);
    expect(rows.every((r) => r.length === ENTERPRISE_COLUMNS.length)).toBe(true);
    expect(new Set(rows.map((r) => r[6]))).toEqual(new Set(['甲,区', '乙"区']));
  });

  it('writes rows longer than its 1 MiB buffer intact', async () => {
    const path = join(dir, 'long.csv');
    const huge = '长'.repeat(400_000) + '区'; // 1.2 MB in UTF-8, twice per row (district, address)
    const result = await writeEnterprisesCsv(path, 3, SEED, { districts: [huge] });
    const rows = parseCsv(readFileSync(path, 'utf8')).slice(1);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r[6])).toEqual([huge, huge, huge]);
    expect(result.bytes).toBe(readFileSync(path).length);
  });

  it('can key enterprises like the reference benchmark', async () => {
    const path = join(dir, 'reference.csv');
    await writeEnterprisesCsv(path, 40, SEED, { districts: BENCH_DISTRICTS, keys: 'REFERENCE' });
    const rows = parseCsv(readFileSync(path, 'utf8')).slice(1);
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 40 }, (_, k) => referenceUscc(k + 1)));
    expect(referenceUscc(1)).toBe('91110000000000001' + '1');
    expect(referenceUscc(31)).toBe('911100000000000310');
  });
});
