/**
 * Deterministic generators of SYNTHETIC rows for the Huizhou demo catalog. No value comes from a
 * real person or enterprise: names are random combinations of common characters, ID numbers and
 * credit codes are built from random parts with valid checksums (GB 11643-1999, GB 32100-2015),
 * mobile numbers are random numbers of a valid shape. They may coincide with real values by
 * chance, as any well-formed identifier can.
 *
 * Determinism: every row is a pure function of (seed, dataset, row index), computed with
 * mulberry32 seeded from a hash of those three, so the same seed always gives the same rows and
 * one dataset can refer to another without generating it (a licence knows its enterprise's
 * founding date; a social-insurance row names an existing enterprise and a registered person).
 * Every date lies on or before {@link DEMO_AS_OF}, never "today", so rows do not change over time.
 *
 * Keys and field names follow the GraphQL fields of the demo datasets.
 */
import { idNumberCheckDigit, usccCheckChar } from '../validation/checksums';

// ---------------------------------------------------------------------------------------------
// Row shapes (type aliases, not interfaces, so they fit `Record<string, string | number | null>`)

export type EnterpriseRow = {
  uscc: string;
  name: string;
  legalRepresentative: string;
  legalRepIdNumber: string;
  registeredCapital: string;
  establishedOn: string;
  district: string;
  status: string;
  address: string;
  phone: string | null;
};

export type EnterpriseLicenseRow = {
  licenseNo: string;
  uscc: string;
  licenseType: string;
  issuingAuthority: string;
  issuedOn: string;
  validUntil: string | null;
  status: string;
};

export type HouseholdRegistrationRow = {
  recordNo: string;
  idNumber: string;
  name: string;
  gender: Gender;
  birthDate: string;
  householdNo: string;
  address: string;
  district: string;
  registeredOn: string;
};

export type SocialInsuranceRow = {
  recordId: string;
  idNumber: string;
  name: string;
  employerUscc: string;
  insuranceType: string;
  status: string;
  startedOn: string;
  monthlyBase: string;
};

export type RealEstateRegistrationRow = {
  certificateNo: string;
  ownerName: string;
  ownerIdNumber: string;
  location: string;
  district: string;
  area: number;
  usage: string;
  rightType: string;
  registeredOn: string;
};

export type AirQualityRow = {
  recordId: string;
  stationCode: string;
  stationName: string;
  district: string;
  observedAt: string;
  aqi: number;
  pm25: number;
  pm10: number;
  o3: number;
  no2: number;
  so2: number;
  co: number;
  primaryPollutant: string | null;
  level: string;
};

export type Gender = '男' | '女';

/** A synthetic person; `gender` and `birthDate` agree with `idNumber` (GB 11643 positions 7–14, 17). */
export type SyntheticPerson = {
  idNumber: string;
  name: string;
  gender: Gender;
  birthDate: string;
};

/** Row counts of the demo load: ~60,000 licences (mean 3 per enterprise), ~127,000 rows in all. */
export const DEMO_SIZES = {
  enterprises: 20_000,
  /** Licences are generated per enterprise (1–5, mean 3), so this is the expected count. */
  enterpriseLicensesExpected: 60_000,
  householdRegistrations: 10_000,
  socialInsurances: 20_000,
  realEstateRegistrations: 10_000,
  airQualityStations: 10,
  airQualityHours: 720,
} as const;

/** Default seed of the demo load. */
export const DEMO_SEED = 20240103;

/** Every generated date is on or before this day (China time). */
export const DEMO_AS_OF = '2025-12-31';

/** First hour of the air-quality series; `hours` consecutive hours follow. */
export const AIR_QUALITY_START = '2025-12-01T00:00:00+08:00';

// ---------------------------------------------------------------------------------------------
// Districts

/** A district with the area code used for ID numbers born there and its roads for addresses. */
export type DistrictSpec = {
  name: string;
  /** GB/T 2260 code used for ID numbers (and licence numbers) of this district. */
  areaCode: string;
  city: string;
  weight: number;
  roads: readonly string[];
};

/** Huizhou's districts; 大亚湾开发区 and 仲恺高新区 are functional zones mapped to 441300 / 441302. */
export const HUIZHOU_DISTRICTS: readonly DistrictSpec[] = [
  { name: '惠城区', areaCode: '441302', city: '惠州市', weight: 28, roads: ['江北文明一路', '麦地路', '下埔大道', '演达大道', '三新北路', '长寿路', '水门路', '河南岸金山大道'] },
  { name: '惠阳区', areaCode: '441303', city: '惠州市', weight: 14, roads: ['开城大道', '叶挺大道', '淡水人民四路', '惠阳大道', '白云一路'] },
  { name: '博罗县', areaCode: '441322', city: '惠州市', weight: 14, roads: ['罗阳北门路', '博罗大道', '罗浮大道', '商业街', '城北大道'] },
  { name: '惠东县', areaCode: '441323', city: '惠州市', weight: 13, roads: ['平山华侨城大道', '惠东大道', '东湖路', '新平大道'] },
  { name: '龙门县', areaCode: '441324', city: '惠州市', weight: 6, roads: ['龙城西林路', '迎宾大道', '龙城大道'] },
  { name: '大亚湾开发区', areaCode: '441300', city: '惠州市', weight: 11, roads: ['石化大道', '龙山八路', '澳头大道', '响水河路'] },
  { name: '仲恺高新区', areaCode: '441302', city: '惠州市', weight: 14, roads: ['仲恺大道', '和畅五路', '惠风东二路', '陈江大道'] },
];

const BEIJING_ROADS: readonly string[] = [
  '建国路', '长安街', '中关村大街', '学院路', '望京街', '丽泽路', '科创街', '金融街', '亦庄路',
  '回龙观东大街', '西直门外大街', '朝阳门北大街',
];

/** The 16 Beijing districts of the reference benchmark (`bench/seed.sql`), with their area codes. */
export const BEIJING_DISTRICTS: readonly DistrictSpec[] = (
  [
    ['东城区', '110101'], ['西城区', '110102'], ['朝阳区', '110105'], ['丰台区', '110106'],
    ['石景山区', '110107'], ['海淀区', '110108'], ['门头沟区', '110109'], ['房山区', '110111'],
    ['通州区', '110112'], ['顺义区', '110113'], ['昌平区', '110114'], ['大兴区', '110115'],
    ['怀柔区', '110116'], ['平谷区', '110117'], ['密云区', '110118'], ['延庆区', '110119'],
  ] as const
).map(([name, areaCode]) => ({ name, areaCode, city: '北京市', weight: 1, roads: BEIJING_ROADS }));

/** Options of the enterprise and licence generators (the benchmark uses other districts and keys). */
export type EnterpriseOptions = {
  /**
   * District names to spread enterprises over, uniformly. Known names (Huizhou, Beijing) bring
   * their city, area code and roads; unknown ones are placed in 惠州市. Default: Huizhou,
   * weighted by size.
   */
  districts?: readonly string[];
  /** Credit code of enterprise i. Default {@link enterpriseUscc}. */
  uscc?: (i: number) => string;
};

// ---------------------------------------------------------------------------------------------
// Keys

const HUIZHOU_USCC_PREFIX = '91441300';

const ORG_CODE_WEIGHTS: readonly number[] = [3, 7, 9, 10, 5, 8, 4, 2];

/**
 * GB 11714-1997 check character of an 8-digit organisation code body:
 * weights 3 7 9 10 5 8 4 2, check = 11 − (Σ mod 11), 10 → X, 11 → 0.
 */
function orgCodeCheckChar(body8: string): string {
  let sum = 0;
  for (let k = 0; k < 8; k++) sum += (body8.charCodeAt(k) - 48) * ORG_CODE_WEIGHTS[k];
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/**
 * Credit code of demo enterprise i (1 ≤ i ≤ 99,999,999): `91` (工商, 企业) + area `441300` +
 * organisation code (8-digit `i` + GB 11714 check) + GB 32100 check character.
 * Injective in i and sorted like i, so keys are unique and easy to derive in load tests.
 */
export function enterpriseUscc(i: number): string {
  if (!Number.isInteger(i) || i < 1 || i > 99_999_999) throw new RangeError('enterpriseUscc: i must be in 1..99,999,999');
  const body = String(i).padStart(8, '0');
  const first17 = HUIZHOU_USCC_PREFIX + body + orgCodeCheckChar(body);
  return first17 + usccCheckChar(first17);
}

// ---------------------------------------------------------------------------------------------
// PRNG and hashing

/** mulberry32: small, fast 32-bit PRNG; good enough for synthetic data, not for secrets. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller). */
  gauss(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash3(a: number, b: number, c: number): number {
  return fmix32((fmix32((fmix32(a ^ 0x9e3779b9) + b) | 0) + c) | 0);
}

/** Stream ids keep the datasets' random numbers apart for the same seed and row index. */
const enum Stream {
  Enterprise = 1,
  EnterpriseCore,
  License,
  PersonAttr,
  Household,
  SocialInsurance,
  RealEstate,
  AirQuality,
  Feistel,
}

function rowRng(seed: number, stream: Stream, i: number): Prng {
  return new Prng(hash3(seed >>> 0, stream, i));
}

class Weighted<T> {
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(private readonly items: readonly T[], weights: readonly number[]) {
    let sum = 0;
    for (const w of weights) this.cumulative.push((sum += w));
    this.total = sum;
  }

  pick(rng: Prng): T {
    const x = rng.next() * this.total;
    // Binary search for the first cumulative weight above x.
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x < this.cumulative[mid]) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

function weighted<T>(entries: readonly (readonly [T, number])[]): Weighted<T> {
  return new Weighted(entries.map((e) => e[0]), entries.map((e) => e[1]));
}

// ---------------------------------------------------------------------------------------------
// Days

const DAY_MS = 86_400_000;

function dayOf(isoDate: string): number {
  return Date.UTC(Number(isoDate.slice(0, 4)), Number(isoDate.slice(5, 7)) - 1, Number(isoDate.slice(8, 10))) / DAY_MS;
}

/** Calendar of 1900–2040, built once: formatting and year arithmetic are lookups (hot in bench runs). */
const TABLE_FIRST_DAY = dayOf('1900-01-01');
const TABLE_LAST_DAY = dayOf('2040-12-31');
type DayTable = { iso: string[]; compact: string[]; year: Int16Array; month: Int8Array; date: Int8Array };
let dayTable: DayTable | undefined;

function getDayTable(): DayTable {
  if (!dayTable) {
    const n = TABLE_LAST_DAY - TABLE_FIRST_DAY + 1;
    const t: DayTable = { iso: new Array<string>(n), compact: new Array<string>(n), year: new Int16Array(n), month: new Int8Array(n), date: new Int8Array(n) };
    for (let k = 0; k < n; k++) {
      const dt = new Date((TABLE_FIRST_DAY + k) * DAY_MS);
      t.iso[k] = dt.toISOString().slice(0, 10);
      t.compact[k] = t.iso[k].replace(/-/g, '');
      t.year[k] = dt.getUTCFullYear();
      t.month[k] = dt.getUTCMonth();
      t.date[k] = dt.getUTCDate();
    }
    dayTable = t;
  }
  return dayTable;
}

/** `YYYY-MM-DD` of a day number (days since 1970-01-01). */
function formatDay(day: number): string {
  if (day >= TABLE_FIRST_DAY && day <= TABLE_LAST_DAY) return getDayTable().iso[day - TABLE_FIRST_DAY];
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `YYYYMMDD` of a day number, as in ID numbers. */
function compactDay(day: number): string {
  if (day >= TABLE_FIRST_DAY && day <= TABLE_LAST_DAY) return getDayTable().compact[day - TABLE_FIRST_DAY];
  return formatDay(day).replace(/-/g, '');
}

/** Same month and day `years` later (29 Feb → 1 Mar in a common year). */
function addYears(day: number, years: number): number {
  if (day >= TABLE_FIRST_DAY && day <= TABLE_LAST_DAY) {
    const t = getDayTable();
    const k = day - TABLE_FIRST_DAY;
    return Date.UTC(t.year[k] + years, t.month[k], t.date[k]) / DAY_MS;
  }
  const dt = new Date(day * DAY_MS);
  return Date.UTC(dt.getUTCFullYear() + years, dt.getUTCMonth(), dt.getUTCDate()) / DAY_MS;
}

const AS_OF_DAY = dayOf(DEMO_AS_OF);

function money(v: number): string {
  return Number.isInteger(v) ? v + '.00' : v.toFixed(2);
}

const ZEROS = '0000000000';

/** Non-negative integer, zero-padded (String.padStart is measurably slower in the bench loop). */
function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : ZEROS.slice(0, width - s.length) + s;
}

// ---------------------------------------------------------------------------------------------
// People

const SURNAMES = weighted<string>([
  ['陈', 10], ['黄', 9], ['李', 8], ['张', 7], ['林', 7], ['刘', 7], ['叶', 5], ['钟', 5], ['罗', 5], ['梁', 5],
  ['何', 4], ['吴', 4], ['曾', 4], ['邓', 4], ['杨', 4], ['谢', 4], ['郑', 3], ['赖', 3], ['周', 3], ['蔡', 3],
  ['王', 3], ['许', 2], ['徐', 2], ['朱', 2], ['胡', 2], ['郭', 2], ['江', 2], ['温', 2], ['邱', 2], ['廖', 2],
  ['冯', 2], ['苏', 2], ['卢', 2], ['方', 2], ['彭', 2], ['詹', 1], ['余', 2], ['欧阳', 0.5], ['司徒', 0.3], ['上官', 0.2],
]);
const GIVEN_MALE: readonly string[] = [
  '伟', '强', '磊', '军', '勇', '杰', '涛', '明', '超', '刚', '辉', '鹏', '华', '飞', '鑫', '波', '斌', '宇', '浩', '凯',
  '健', '俊', '帆', '旭', '宁', '龙', '林', '阳', '建', '国', '志', '文', '海', '峰', '荣', '振', '锦', '嘉', '家', '梓',
];
const GIVEN_FEMALE: readonly string[] = [
  '芳', '娜', '敏', '静', '丽', '艳', '娟', '霞', '秀', '英', '玲', '燕', '萍', '红', '琳', '雪', '倩', '婷', '慧', '颖',
  '洁', '琴', '云', '莉', '兰', '梅', '晶', '妍', '欣', '怡', '佳', '悦', '雯', '嘉', '丹', '诗', '思', '晓', '文', '淑',
];
/** Birth areas of people born outside Huizhou (nearby cities and common origins of migrants). */
const OTHER_AREA_CODES: readonly string[] = [
  '440106', '440304', '441502', '441402', '445202', '441702', '440823', '430104', '360102', '450102', '510104', '420102',
];
const HUIZHOU_BIRTH_AREAS = weighted<string>([
  ['441302', 35], ['441303', 15], ['441322', 15], ['441323', 15], ['441324', 7], ['441300', 5],
]);

/**
 * A set of people with unique ID numbers: person j maps to (birth day, sequence code) through a
 * keyed Feistel permutation of [0, days × 1000), so no two people of one domain share the
 * first 17 digits' date + sequence part.
 */
type PersonDomain = { firstDay: number; days: number; size: number; halfBits: number; stream: number };

function personDomain(from: string, to: string, stream: number): PersonDomain {
  const firstDay = dayOf(from);
  const days = dayOf(to) - firstDay + 1;
  const size = days * 1000;
  let bits = Math.ceil(Math.log2(size));
  if (bits % 2) bits++;
  return { firstDay, days, size, halfBits: bits / 2, stream };
}

/** Everyone registered in Huizhou: born 1940–2023. */
const RESIDENTS = personDomain('1940-01-01', '2023-12-31', 1);
/** Legal representatives: born 1955–2003 (aged 22–70 at the end of 2025). */
const ADULTS = personDomain('1955-01-01', '2003-12-31', 2);

function feistel(x: number, domain: PersonDomain, seed: number): number {
  const half = domain.halfBits;
  const mask = (1 << half) - 1;
  do {
    let l = x >>> half;
    let r = x & mask;
    for (let round = 0; round < 4; round++) {
      const f = hash3(seed, Stream.Feistel * 16 + domain.stream * 4 + round, r) & mask;
      const nl = r;
      r = l ^ f;
      l = nl;
    }
    x = ((l << half) | r) >>> 0;
  } while (x >= domain.size); // cycle walking keeps the permutation inside [0, size)
  return x;
}

function makePerson(domain: PersonDomain, j: number, seed: number, areaCode?: string): SyntheticPerson & { areaCode: string } {
  if (!Number.isInteger(j) || j < 1 || j > domain.size) throw new RangeError('person index out of range');
  const p = feistel(j - 1, domain, seed >>> 0);
  const day = domain.firstDay + Math.floor(p / 1000);
  const seq = p % 1000;
  // GB 11643-1999: the sequence code's last digit (position 17) is odd for men, even for women.
  const gender: Gender = seq % 2 === 1 ? '男' : '女';
  const rng = rowRng(seed, Stream.PersonAttr, domain.stream * 100_000_000 + j);
  const area = areaCode ?? (rng.chance(0.85) ? HUIZHOU_BIRTH_AREAS.pick(rng) : rng.pick(OTHER_AREA_CODES));
  const birthDate = formatDay(day);
  const first17 = area + compactDay(day) + pad(seq, 3);
  const given = gender === '男' ? GIVEN_MALE : GIVEN_FEMALE;
  const name = SURNAMES.pick(rng) + rng.pick(given) + (rng.chance(0.7) ? rng.pick(given) : '');
  return { idNumber: first17 + idNumberCheckDigit(first17), name, gender, birthDate, areaCode: area };
}

/**
 * Resident j (1-based) of the synthetic population: born 1940–2023, unique ID number for a
 * given seed. Households, social insurance and real estate draw from the same population, so a
 * person's name and ID agree across datasets.
 */
export function syntheticPerson(j: number, seed: number): SyntheticPerson {
  const { idNumber, name, gender, birthDate } = makePerson(RESIDENTS, j, seed);
  return { idNumber, name, gender, birthDate };
}

// ---------------------------------------------------------------------------------------------
// Enterprises and licences

const KNOWN_DISTRICTS = new Map<string, DistrictSpec>(
  [...HUIZHOU_DISTRICTS, ...BEIJING_DISTRICTS].map((d) => [d.name, d]),
);
const GENERIC_ROADS: readonly string[] = ['人民路', '解放路', '中山路', '建设路', '新华路', '胜利路'];

type EnterpriseContext = { districts: Weighted<DistrictSpec>; uscc: (i: number) => string };

const contextCache = new WeakMap<EnterpriseOptions, EnterpriseContext>();
const DEFAULT_OPTIONS: EnterpriseOptions = {};

function enterpriseContext(options: EnterpriseOptions): EnterpriseContext {
  let ctx = contextCache.get(options);
  if (!ctx) {
    const districts = options.districts
      ? new Weighted(
          options.districts.map(
            (name) => KNOWN_DISTRICTS.get(name) ?? { name, areaCode: '441300', city: '惠州市', weight: 1, roads: GENERIC_ROADS },
          ),
          options.districts.map(() => 1),
        )
      : new Weighted(HUIZHOU_DISTRICTS, HUIZHOU_DISTRICTS.map((d) => d.weight));
    ctx = { districts, uscc: options.uscc ?? enterpriseUscc };
    contextCache.set(options, ctx);
  }
  return ctx;
}

const ENTERPRISE_STATUS = weighted<string>([['存续', 70], ['在业', 15], ['注销', 8], ['吊销', 5], ['迁出', 2]]);
const NAME_WORDS: readonly string[] = [
  '华', '信', '达', '恒', '瑞', '泰', '安', '盛', '博', '联', '创', '鑫', '宏', '远', '嘉', '智', '汇', '中', '天', '金',
  '云', '通', '科', '和', '新', '星', '永', '丰', '海', '德', '湾', '粤', '东', '江', '罗', '浮', '鹏', '润', '隆', '源',
];
const INDUSTRIES: readonly string[] = [
  '科技', '信息技术', '商贸', '建筑工程', '餐饮管理', '文化传媒', '医药', '物流', '咨询', '教育科技', '环保科技',
  '房地产开发', '电子', '新能源', '石化', '农业发展', '食品', '家具', '服装', '旅游开发',
];
const SUFFIXES = weighted<string>([['有限公司', 80], ['有限责任公司', 12], ['股份有限公司', 8]]);
const CAPITAL_WAN: readonly number[] = [3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 800, 1000, 2000, 5000, 10000];
const MOBILE_PREFIXES: readonly string[] = [
  '130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '156', '157', '158', '159',
  '166', '176', '177', '178', '180', '181', '182', '183', '185', '186', '187', '188', '189', '191', '198', '199',
];
const FIRST_ESTABLISHED_DAY = dayOf('1990-01-01');
const LAST_ESTABLISHED_DAY = dayOf('2025-06-30');

/** Founding data of enterprise i that other datasets need, from its own stream. */
type EnterpriseCore = { establishedDay: number; status: string; district: DistrictSpec };

function enterpriseCore(i: number, seed: number, ctx: EnterpriseContext): EnterpriseCore {
  const rng = rowRng(seed, Stream.EnterpriseCore, i);
  // sqrt skews foundings towards recent years, as registrations grew.
  const span = LAST_ESTABLISHED_DAY - FIRST_ESTABLISHED_DAY;
  const establishedDay = FIRST_ESTABLISHED_DAY + Math.floor(span * Math.sqrt(rng.next()));
  return { establishedDay, status: ENTERPRISE_STATUS.pick(rng), district: ctx.districts.pick(rng) };
}

function syntheticMobile(rng: Prng): string {
  return rng.pick(MOBILE_PREFIXES) + pad(rng.int(100_000_000), 8);
}

function makeEnterprise(i: number, seed: number, ctx: EnterpriseContext): EnterpriseRow {
  const core = enterpriseCore(i, seed, ctx);
  const rng = rowRng(seed, Stream.Enterprise, i);
  const d = core.district;
  const words = rng.chance(0.5) ? 2 : 3;
  let brand = '';
  for (let k = 0; k < words; k++) brand += rng.pick(NAME_WORDS);
  const rep = makePerson(ADULTS, i, seed, rng.chance(0.7) ? d.areaCode : undefined);
  // 注册资本 in 万元 (ten thousand yuan), as the catalog field declares.
  const capital = rng.chance(0.85) ? rng.pick(CAPITAL_WAN) : rng.range(10, 4999) + rng.int(100) / 100;
  return {
    uscc: ctx.uscc(i),
    name: d.city + brand + rng.pick(INDUSTRIES) + SUFFIXES.pick(rng),
    legalRepresentative: rep.name,
    legalRepIdNumber: rep.idNumber,
    registeredCapital: money(capital),
    establishedOn: formatDay(core.establishedDay),
    district: d.name,
    status: core.status,
    address: `${d.city}${d.name}${rng.pick(d.roads)}${rng.range(1, 399)}号`,
    phone: rng.chance(0.05) ? null : syntheticMobile(rng),
  };
}

/** Enterprise i (1-based) as {@link enterprises} yields it. */
export function enterpriseRow(i: number, seed: number, options: EnterpriseOptions = DEFAULT_OPTIONS): EnterpriseRow {
  return makeEnterprise(i, seed, enterpriseContext(options));
}

/**
 * `count` synthetic enterprises (市场主体登记), i = 1..count in key order. `uscc` is
 * {@link enterpriseUscc}(i) unless `options.uscc` says otherwise; the legal representative's ID
 * number is GB 11643 valid; `registeredCapital` is in 万元 with 2 decimals; `phone` is a valid
 * mobile or null (~5%).
 */
export function* enterprises(count: number, seed: number, options: EnterpriseOptions = DEFAULT_OPTIONS): IterableIterator<EnterpriseRow> {
  const ctx = enterpriseContext(options);
  for (let i = 1; i <= count; i++) yield makeEnterprise(i, seed, ctx);
}

type LicenseKind = { type: string; code: string; authority: string; validYears: number | null };

/** 营业执照 first (every enterprise has one), then the other licence kinds. */
const LICENSE_KINDS: readonly LicenseKind[] = [
  { type: '营业执照', code: 'YY', authority: '市场监督管理局', validYears: null },
  { type: '食品经营许可证', code: 'JY', authority: '市场监督管理局', validYears: 5 },
  { type: '建筑业企业资质证书', code: 'JZ', authority: '住房和城乡建设局', validYears: 5 },
  { type: '排污许可证', code: 'PW', authority: '生态环境局', validYears: 5 },
  { type: '医疗器械经营许可证', code: 'YX', authority: '市场监督管理局', validYears: 5 },
  { type: '道路运输经营许可证', code: 'YS', authority: '交通运输局', validYears: 4 },
  { type: '网络文化经营许可证', code: 'WW', authority: '文化广电旅游体育局', validYears: 3 },
  { type: '人力资源服务许可证', code: 'RL', authority: '人力资源和社会保障局', validYears: 5 },
];

function* licensesOf(i: number, seed: number, ctx: EnterpriseContext): IterableIterator<EnterpriseLicenseRow> {
  const core = enterpriseCore(i, seed, ctx);
  const rng = rowRng(seed, Stream.License, i);
  const uscc = ctx.uscc(i);
  const count = rng.range(1, 5); // uniform 1..5, mean 3
  const cancelled = core.status === '注销' || core.status === '吊销';
  // Distinct kinds: a partial Fisher–Yates shuffle of the non-营业执照 kinds.
  const others = [1, 2, 3, 4, 5, 6, 7];
  for (let n = 1; n <= count; n++) {
    let kind: LicenseKind;
    if (n === 1) kind = LICENSE_KINDS[0];
    else {
      const k = n - 2 + rng.int(others.length - (n - 2));
      const chosen = others[k];
      others[k] = others[n - 2];
      others[n - 2] = chosen;
      kind = LICENSE_KINDS[chosen];
    }
    const issuedDay =
      n === 1 && rng.chance(0.7)
        ? core.establishedDay
        : core.establishedDay + rng.int(AS_OF_DAY - core.establishedDay + 1);
    const validUntilDay = kind.validYears === null ? null : addYears(issuedDay, kind.validYears) - 1;
    let status: string;
    if (cancelled) status = '已注销';
    else if (validUntilDay !== null && validUntilDay < AS_OF_DAY) status = rng.chance(0.9) ? '已过期' : '已注销';
    else status = rng.chance(0.95) ? '有效' : '已注销';
    yield {
      // kind code + area (credit code positions 3–6) + enterprise number + licence number: unique.
      licenseNo: kind.code + uscc.slice(2, 6) + pad(i, 8) + pad(n, 2),
      uscc,
      licenseType: kind.type,
      issuingAuthority: core.district.city + kind.authority,
      issuedOn: formatDay(issuedDay),
      validUntil: validUntilDay === null ? null : formatDay(validUntilDay),
      status,
    };
  }
}

/**
 * Licences (行政许可) of enterprises 1..enterpriseCount: 1–5 each (mean 3), the first always a
 * 营业执照 without expiry. Issued on or after the enterprise's founding; an enterprise that is
 * 注销/吊销 has only 已注销 licences; 已过期 only when `validUntil` is before {@link DEMO_AS_OF}.
 */
export function* enterpriseLicenses(
  enterpriseCount: number,
  seed: number,
  options: EnterpriseOptions = DEFAULT_OPTIONS,
): IterableIterator<EnterpriseLicenseRow> {
  const ctx = enterpriseContext(options);
  for (let i = 1; i <= enterpriseCount; i++) yield* licensesOf(i, seed, ctx);
}

// ---------------------------------------------------------------------------------------------
// Households

const HOUSEHOLD_SIZE = weighted<number>([[1, 20], [2, 25], [3, 30], [4, 15], [5, 10]]);
const HUIZHOU_WEIGHTED = new Weighted(HUIZHOU_DISTRICTS, HUIZHOU_DISTRICTS.map((d) => d.weight));
/** 户口登记条例 took effect on 1958-01-09; no registration is dated earlier. */
const FIRST_REGISTRATION_DAY = dayOf('1958-01-09');

function districtForArea(areaCode: string, rng: Prng): DistrictSpec {
  const matches = HUIZHOU_DISTRICTS.filter((d) => d.areaCode === areaCode);
  return matches.length ? rng.pick(matches) : HUIZHOU_WEIGHTED.pick(rng);
}

function homeAddress(d: DistrictSpec, rng: Prng): string {
  return `${d.city}${d.name}${rng.pick(d.roads)}${rng.range(1, 399)}号${rng.range(1, 30)}栋${rng.range(1, 33)}${pad(rng.range(1, 8), 2)}房`;
}

/**
 * Household registrations (户籍登记) of residents 1..count, grouped into households of 1–5
 * people sharing `householdNo`, address and district (the head's birth district where it is in
 * Huizhou). `gender` and `birthDate` agree with `idNumber`; ID numbers are unique.
 */
export function* householdRegistrations(count: number, seed: number): IterableIterator<HouseholdRegistrationRow> {
  let j = 1;
  for (let h = 1; j <= count; h++) {
    const rng = rowRng(seed, Stream.Household, h);
    const size = HOUSEHOLD_SIZE.pick(rng);
    const head = makePerson(RESIDENTS, j, seed);
    const district = districtForArea(head.areaCode, rng);
    const address = homeAddress(district, rng);
    const householdNo = '4413' + pad(h, 8);
    for (let m = 0; m < size && j <= count; m++, j++) {
      const p = m === 0 ? head : makePerson(RESIDENTS, j, seed);
      const birthDay = dayOf(p.birthDate);
      const earliest = Math.max(birthDay, FIRST_REGISTRATION_DAY);
      // Most are registered at birth (within 60 days); the rest moved in later.
      const registeredDay = Math.min(
        AS_OF_DAY,
        rng.chance(0.6) ? earliest + rng.int(61) : earliest + rng.int(AS_OF_DAY - earliest + 1),
      );
      yield {
        recordNo: 'HJ' + district.areaCode + pad(j, 8),
        idNumber: p.idNumber,
        name: p.name,
        gender: p.gender,
        birthDate: p.birthDate,
        householdNo,
        address,
        district: district.name,
        registeredOn: formatDay(registeredDay),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Social insurance

const INSURANCE_TYPES: readonly (readonly [string, number])[] = [
  ['养老保险', 0.9], ['医疗保险', 0.95], ['失业保险', 0.7], ['工伤保险', 0.7], ['生育保险', 0.6],
];
const INSURANCE_STATUS = weighted<string>([['参保缴费', 80], ['暂停缴费', 12], ['终止参保', 8]]);
const FIRST_INSURANCE_DAY = dayOf('1995-01-01');

/**
 * `count` social-insurance enrolments (社会保险参保) of working-age residents (16–65 at
 * {@link DEMO_AS_OF}), in resident order, 1–5 insurance types each, with one employer per person
 * drawn from enterprises 1..enterpriseCount (same seed). Starts after the person turned 16, the
 * employer was founded and 1995-01-01.
 */
export function* socialInsurances(count: number, enterpriseCount: number, seed: number): IterableIterator<SocialInsuranceRow> {
  if (count > 0 && enterpriseCount < 1) throw new RangeError('socialInsurances needs at least one enterprise');
  const ctx = enterpriseContext(DEFAULT_OPTIONS);
  let emitted = 0;
  for (let j = 1; emitted < count; j++) {
    const p = makePerson(RESIDENTS, j, seed);
    const birthDay = dayOf(p.birthDate);
    if (addYears(birthDay, 16) > AS_OF_DAY || addYears(birthDay, 65) < AS_OF_DAY) continue;
    const rng = rowRng(seed, Stream.SocialInsurance, j);
    const employer = rng.range(1, enterpriseCount);
    const core = enterpriseCore(employer, seed, ctx);
    const earliest = Math.max(addYears(birthDay, 16), core.establishedDay, FIRST_INSURANCE_DAY);
    if (earliest > AS_OF_DAY) continue;
    const status = INSURANCE_STATUS.pick(rng);
    // Contribution bases cluster at the low end of the allowed band.
    const base = 4588 + Math.floor(20_000 * rng.next() ** 2.5) + rng.int(100) / 100;
    const types = INSURANCE_TYPES.filter(([, share]) => rng.chance(share));
    if (types.length === 0) types.push(INSURANCE_TYPES[1]);
    for (const [insuranceType] of types) {
      if (emitted >= count) break;
      emitted++;
      yield {
        recordId: 'SI' + pad(emitted, 10),
        idNumber: p.idNumber,
        name: p.name,
        employerUscc: ctx.uscc(employer),
        insuranceType,
        status,
        startedOn: formatDay(earliest + rng.int(AS_OF_DAY - earliest + 1)),
        monthlyBase: money(base),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Real estate

const USAGES = weighted<string>([['住宅', 70], ['商业', 12], ['办公', 8], ['工业', 10]]);
const FIRST_REAL_ESTATE_DAY = dayOf('2016-01-01');

/**
 * `count` real-estate registrations (不动产登记), certificate numbers
 * `粤(YYYY)惠州市不动产权第NNNNNNN号` unique by row. Owners are adult residents (18+ when
 * registering) drawn from residents 1..max(count, 1000), so names and IDs match the households.
 */
export function* realEstateRegistrations(count: number, seed: number): IterableIterator<RealEstateRegistrationRow> {
  const pool = Math.max(count, 1000);
  for (let i = 1; i <= count; i++) {
    const rng = rowRng(seed, Stream.RealEstate, i);
    let owner = makePerson(RESIDENTS, rng.range(1, pool), seed);
    // Redraw until the owner is 18 by the end of the period; ~80% of residents are.
    while (addYears(dayOf(owner.birthDate), 18) > AS_OF_DAY) owner = makePerson(RESIDENTS, rng.range(1, pool), seed);
    const earliest = Math.max(FIRST_REAL_ESTATE_DAY, addYears(dayOf(owner.birthDate), 18));
    const registeredDay = earliest + rng.int(AS_OF_DAY - earliest + 1);
    const registeredOn = formatDay(registeredDay);
    const d = HUIZHOU_WEIGHTED.pick(rng);
    const usage = USAGES.pick(rng);
    const street = `${d.city}${d.name}${rng.pick(d.roads)}${rng.range(1, 399)}号`;
    let location: string;
    let area: number;
    let rightType = '国有建设用地使用权/房屋所有权';
    switch (usage) {
      case '住宅':
        location = `${street}${rng.range(1, 30)}栋${rng.range(1, 33)}${pad(rng.range(1, 8), 2)}房`;
        area = 45 + rng.next() * 135;
        break;
      case '商业':
        location = `${street}${rng.range(1, 120)}号商铺`;
        area = 20 + rng.next() * 480;
        break;
      case '办公':
        location = `${street}${rng.range(1, 40)}${pad(rng.range(1, 20), 2)}室`;
        area = 40 + rng.next() * 360;
        break;
      default:
        location = `${street}厂区`;
        area = 500 + rng.next() * 19_500;
        if (rng.chance(0.4)) rightType = '国有建设用地使用权';
    }
    yield {
      certificateNo: `粤(${registeredOn.slice(0, 4)})惠州市不动产权第${pad(i, 7)}号`,
      ownerName: owner.name,
      ownerIdNumber: owner.idNumber,
      location,
      district: d.name,
      area: Math.round(area * 100) / 100,
      usage,
      rightType,
      registeredOn,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Air quality

type Station = { code: string; name: string; district: string };

const STATIONS: readonly Station[] = [
  { code: 'HZ01', name: '下埔', district: '惠城区' },
  { code: 'HZ02', name: '西湖', district: '惠城区' },
  { code: 'HZ03', name: '江北', district: '惠城区' },
  { code: 'HZ04', name: '金山湖', district: '惠城区' },
  { code: 'HZ05', name: '惠阳市监站', district: '惠阳区' },
  { code: 'HZ06', name: '大亚湾西区', district: '大亚湾开发区' },
  { code: 'HZ07', name: '博罗环保局', district: '博罗县' },
  { code: 'HZ08', name: '惠东环保局', district: '惠东县' },
  { code: 'HZ09', name: '龙门环保局', district: '龙门县' },
  { code: 'HZ10', name: '仲恺惠环', district: '仲恺高新区' },
];

/**
 * HJ 633-2012 breakpoints: IAQI levels and concentration limits per pollutant. Hourly AQI uses
 * the 1-hour limits for SO2, NO2, CO and O3 and (having none of its own) the 24-hour limits for
 * PM10 and PM2.5. SO2 above 800 µg/m³ is not rated hourly; values here stay far below.
 */
const IAQI_LEVELS: readonly number[] = [0, 50, 100, 150, 200, 300, 400, 500];
const BREAKPOINTS: readonly (readonly [string, readonly number[]])[] = [
  ['PM2.5', [0, 35, 75, 115, 150, 250, 350, 500]],
  ['PM10', [0, 50, 150, 250, 350, 420, 500, 600]],
  ['O3', [0, 160, 200, 300, 400, 800, 1000, 1200]],
  ['NO2', [0, 100, 200, 700, 1200, 2340, 3090, 3840]],
  ['SO2', [0, 150, 500, 650, 800, 800, 800, 800]],
  ['CO', [0, 5, 10, 35, 60, 90, 120, 150]],
];

function iaqi(c: number, bp: readonly number[]): number {
  for (let k = 1; k < bp.length; k++) {
    if (c <= bp[k]) {
      if (bp[k] === bp[k - 1]) return IAQI_LEVELS[k];
      return ((IAQI_LEVELS[k] - IAQI_LEVELS[k - 1]) / (bp[k] - bp[k - 1])) * (c - bp[k - 1]) + IAQI_LEVELS[k - 1];
    }
  }
  return 500;
}

/** HJ 633-2012 table 2: AQI category. */
export function aqiLevel(aqi: number): string {
  if (aqi <= 50) return '优';
  if (aqi <= 100) return '良';
  if (aqi <= 150) return '轻度污染';
  if (aqi <= 200) return '中度污染';
  if (aqi <= 300) return '重度污染';
  return '严重污染';
}

/**
 * HJ 633-2012: AQI = max IAQI rounded up; primary pollutants are those with the maximum IAQI
 * when AQI > 50, joined by `,`; null when air quality is 优.
 */
export function computeAqi(c: { pm25: number; pm10: number; o3: number; no2: number; so2: number; co: number }): {
  aqi: number;
  primaryPollutant: string | null;
} {
  const values = [c.pm25, c.pm10, c.o3, c.no2, c.so2, c.co];
  const sub = BREAKPOINTS.map(([, bp], k) => Math.ceil(iaqi(values[k], bp)));
  const aqi = Math.max(...sub);
  if (aqi <= 50) return { aqi, primaryPollutant: null };
  const primary = BREAKPOINTS.filter((_, k) => sub[k] === aqi).map(([name]) => name);
  return { aqi, primaryPollutant: primary.join(',') };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function stationAt(s: number): Station {
  if (s < STATIONS.length) return STATIONS[s];
  const base = STATIONS[s % STATIONS.length];
  return { code: `HZ${pad(s + 1, 2)}`, name: `${base.name}${Math.floor(s / STATIONS.length) + 1}号点`, district: base.district };
}

/**
 * Hourly air-quality observations of `stations` monitoring stations over `hours` hours from
 * {@link AIR_QUALITY_START}, ordered by hour then station. Concentrations (µg/m³; CO mg/m³)
 * follow a winter diurnal cycle with a shared regional trend; `aqi`, `primaryPollutant` and
 * `level` are computed from them by HJ 633-2012.
 */
export function* airQualities(stations: number, hours: number, seed: number): IterableIterator<AirQualityRow> {
  const rng = rowRng(seed, Stream.AirQuality, 0);
  const list = Array.from({ length: stations }, (_, s) => stationAt(s));
  const factor = list.map(() => 0.8 + rng.next() * 0.4);
  const local = list.map(() => 0);
  let regional = 0;
  const startMs = Date.parse(AIR_QUALITY_START);
  for (let h = 0; h < hours; h++) {
    regional = 0.96 * regional + 0.28 * rng.gauss();
    const t = new Date(startMs + h * 3_600_000 + 8 * 3_600_000); // China wall-clock time
    const hourOfDay = t.getUTCHours();
    const stamp = t.toISOString().slice(0, 19) + '+08:00';
    const key = stamp.slice(0, 4) + stamp.slice(5, 7) + stamp.slice(8, 10) + stamp.slice(11, 13);
    const night = 1 + 0.15 * Math.cos((2 * Math.PI * (hourOfDay - 22)) / 24);
    const sun = Math.max(0, Math.sin((Math.PI * (hourOfDay - 7)) / 13));
    const rush = 1 + 0.35 * (Math.exp(-((hourOfDay - 8) ** 2) / 3) + Math.exp(-((hourOfDay - 19) ** 2) / 4));
    for (let s = 0; s < list.length; s++) {
      local[s] = 0.8 * local[s] + 0.3 * rng.gauss();
      const f = factor[s];
      const scale = Math.exp(0.45 * regional + 0.2 * local[s]);
      const pm25 = round1(28 * f * scale * night);
      const conc = {
        pm25,
        pm10: round1(pm25 * (1.45 + 0.35 * rng.next())),
        o3: round1((18 + 125 * sun) * Math.exp(0.25 * regional + 0.1 * local[s])),
        no2: round1(24 * f * rush * Math.exp(0.3 * local[s] + 0.2 * regional)),
        so2: round1(6 * f * Math.exp(0.2 * local[s])),
        co: Math.round(0.65 * f * Math.exp(0.25 * regional + 0.1 * local[s]) * 100) / 100,
      };
      const { aqi, primaryPollutant } = computeAqi(conc);
      const st = list[s];
      yield {
        recordId: `${st.code}-${key}`,
        stationCode: st.code,
        stationName: st.name,
        district: st.district,
        observedAt: stamp,
        aqi,
        ...conc,
        primaryPollutant,
        level: aqiLevel(aqi),
      };
    }
  }
}
