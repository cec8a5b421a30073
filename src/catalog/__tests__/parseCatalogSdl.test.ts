import path from 'node:path';
import { Kind, parse, visit } from 'graphql';
import type { EnumTypeDefinitionNode } from 'graphql';
import {
  FIELD_TYPES, GRADES, MASK_RULES, OPEN_TYPES, RESOURCE_FORMATS, SHARE_CLASSES, SHARE_MODES,
  UPDATE_CYCLES, VALUE_CHECKS, formatProblem,
} from '../Catalog';
import type { Catalog, CatalogDataset, CatalogField } from '../Catalog';
import { CATALOG_PRELUDE_SDL, catalogDirectives } from '../directives';
import { loadCatalogFiles } from '../loadCatalogFiles';
import { parseCatalogSdl } from '../parseCatalogSdl';
import type { CatalogSdlFile } from '../parseCatalogSdl';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(ROOT, 'src/__testUtils__/fixtures/catalog');

/** Loads a folder with file names relative to it (`_departments.graphql`, …). */
function loadDir(dir: string): Promise<CatalogSdlFile[]> {
  return loadCatalogFiles(dir, dir);
}

function problemsOf(files: CatalogSdlFile[], options?: Parameters<typeof parseCatalogSdl>[1]): string[] {
  return parseCatalogSdl(files, options).problems.map(formatProblem);
}

function dataset(catalog: Catalog, typeName: string): CatalogDataset {
  const ds = catalog.datasets.find((d) => d.typeName === typeName);
  if (!ds) throw new Error(`no dataset ${typeName}`);
  return ds;
}

function field(ds: CatalogDataset, name: string): CatalogField {
  const f = ds.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${ds.typeName}.${name}`);
  return f;
}

describe('catalog prelude', () => {
  it('declares the enums with exactly the values of Catalog.ts', () => {
    const enums = new Map<string, string[]>();
    for (const def of parse(CATALOG_PRELUDE_SDL).definitions) {
      if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
        enums.set(def.name.value, ((def as EnumTypeDefinitionNode).values ?? []).map((v) => v.name.value));
      }
    }
    expect(Object.fromEntries(enums)).toEqual({
      ShareClass: SHARE_CLASSES,
      OpenType: OPEN_TYPES,
      Grade: GRADES,
      UpdateCycle: UPDATE_CYCLES,
      ResourceFormat: RESOURCE_FORMATS,
      ShareMode: SHARE_MODES,
      FieldType: FIELD_TYPES,
      MaskRule: MASK_RULES,
      ValueCheck: VALUE_CHECKS,
      DepartmentLevel: ['CITY', 'DISTRICT'],
    });
  });

  it('defines the catalog directives once each', () => {
    expect(catalogDirectives.map((d) => `@${d.name}${d.isRepeatable ? ' repeatable' : ''} on ${d.locations.join('|')}`)).toEqual([
      '@department repeatable on SCHEMA',
      '@source on SCHEMA',
      '@function repeatable on SCHEMA',
      '@dataset on OBJECT',
      '@label on FIELD_DEFINITION',
      '@key on FIELD_DEFINITION',
      '@share on FIELD_DEFINITION',
      '@open on FIELD_DEFINITION',
      '@grade on FIELD_DEFINITION',
      '@personal on FIELD_DEFINITION',
      '@mask on FIELD_DEFINITION',
      '@check on FIELD_DEFINITION',
      '@index on FIELD_DEFINITION',
      '@subject on FIELD_DEFINITION',
      '@ref on FIELD_DEFINITION',
    ]);
  });
});

describe('the shipped catalog (schema/)', () => {
  let result: ReturnType<typeof parseCatalogSdl>;
  beforeAll(async () => {
    result = parseCatalogSdl(await loadCatalogFiles(path.join(ROOT, 'schema'), ROOT));
  });

  it('has no problems', () => {
    expect(result.problems.map(formatProblem)).toEqual([]);
  });

  it('registers the departments with checksum-valid credit codes and one city data authority', () => {
    const { departments } = result.catalog;
    expect(departments.map((d) => [d.code, d.level, d.isAuthority])).toEqual([
      ['HZ-ZSJ', 'CITY', true],
      ['HZ-SCJGJ', 'CITY', false],
      ['HZ-GAJ', 'CITY', false],
      ['HZ-RSJ', 'CITY', false],
      ['HZ-ZRZYJ', 'CITY', false],
      ['HZ-SSTHJJ', 'CITY', false],
      ['HZ-HC-ZSJ', 'DISTRICT', false],
    ]);
    expect(departments.find((d) => d.code === 'HZ-HC-ZSJ')).toMatchObject({ district: '惠城区', name: '惠城区政务服务数据管理局' });
    expect(departments.find((d) => d.code === 'HZ-ZSJ')?.loc).toEqual({ file: 'schema/_departments.graphql', line: 14, column: 3 });
  });

  it('holds the expected datasets', () => {
    expect(result.catalog.datasets.map((d) => [d.typeName, d.code, d.departmentCode, d.updateCycle, d.openType])).toEqual([
      ['HouseholdRegistration', '3.44.13.003/00000001', 'HZ-GAJ', 'MONTHLY', 'NOT_OPEN'],
      ['SocialInsurance', '3.44.13.004/00000001', 'HZ-RSJ', 'MONTHLY', 'NOT_OPEN'],
      ['Enterprise', '3.44.13.002/00000001', 'HZ-SCJGJ', 'DAILY', 'CONDITIONAL'],
      ['EnterpriseLicense', '3.44.13.002/00000002', 'HZ-SCJGJ', 'DAILY', 'UNCONDITIONAL'],
      ['AirQuality', '3.44.13.006/00000001', 'HZ-SSTHJJ', 'REALTIME', 'UNCONDITIONAL'],
      ['RealEstateRegistration', '3.44.13.005/00000001', 'HZ-ZRZYJ', 'WEEKLY', 'NOT_OPEN'],
    ]);
    for (const ds of result.catalog.datasets) {
      expect(ds.format).toBe('DATABASE');
      expect(result.catalog.functionItems.some((f) => f.code === ds.functionCode && f.departmentCode === ds.departmentCode)).toBe(true);
      expect(ds.fields.every((f) => f.label.length > 0)).toBe(true);
    }
  });

  it('declares the enterprise fields the benchmark queries ask for', () => {
    const enterprise = dataset(result.catalog, 'Enterprise');
    expect(enterprise.fields.map((f) => `${f.name}:${f.type}${f.required ? '!' : ''}`)).toEqual([
      'uscc:STRING!', 'name:STRING!', 'legalRepresentative:STRING!', 'legalRepIdNumber:STRING!',
      'registeredCapital:DECIMAL!', 'establishedOn:DATE!', 'district:STRING!', 'status:STRING!',
      'address:STRING!', 'phone:STRING',
    ]);
    expect(field(enterprise, 'uscc')).toMatchObject({
      label: '统一社会信用代码', isKey: true, indexed: true, shareClass: 'UNCONDITIONAL', openType: 'UNCONDITIONAL',
      check: 'USCC', subjectId: true, personal: false,
    });
    expect(field(enterprise, 'legalRepIdNumber')).toMatchObject({
      shareClass: 'CONDITIONAL', openType: 'NOT_OPEN', personal: true, mask: 'ID_NUMBER', check: 'ID_NUMBER',
      subjectId: true, grade: 'GENERAL_4',
    });
    expect(field(enterprise, 'registeredCapital').description).toBe('注册资本，单位：万元人民币。');
    const license = dataset(result.catalog, 'EnterpriseLicense');
    expect(license.fields.map((f) => f.name)).toEqual([
      'licenseNo', 'uscc', 'licenseType', 'issuingAuthority', 'issuedOn', 'validUntil', 'status',
    ]);
    expect(field(license, 'validUntil').required).toBe(false);
  });

  it('links the datasets by references', () => {
    const refs = result.catalog.datasets.flatMap((d) =>
      d.references.map((r) => `${d.typeName}.${r.name} ${r.fromField}→${r.targetDataset}.${r.toField} ${r.many ? 'many' : 'one'} ${r.label}`));
    expect(refs).toEqual([
      'SocialInsurance.employer employerUscc→3.44.13.002/00000001.uscc one 参保单位',
      'Enterprise.licenses uscc→3.44.13.002/00000002.uscc many 许可证',
      'EnterpriseLicense.enterprise uscc→3.44.13.002/00000001.uscc one 持证企业',
    ]);
  });

  it('never opens a NOT_SHARED field and shares every key', () => {
    const fields = result.catalog.datasets.flatMap((d) => d.fields);
    expect(fields.filter((f) => f.shareClass === 'NOT_SHARED' && f.openType !== 'NOT_OPEN')).toEqual([]);
    expect(fields.filter((f) => f.isKey && f.shareClass === 'NOT_SHARED')).toEqual([]);
    const household = dataset(result.catalog, 'HouseholdRegistration');
    expect(household.fields.filter((f) => f.shareClass === 'NOT_SHARED').map((f) => f.name)).toEqual([
      'idNumber', 'name', 'gender', 'birthDate', 'address',
    ]);
  });

  it('shares and opens all air-quality fields without condition', () => {
    const air = dataset(result.catalog, 'AirQuality');
    expect(air.fields).toHaveLength(14);
    for (const f of air.fields) {
      expect([f.name, f.shareClass, f.openType, f.grade]).toEqual([f.name, 'UNCONDITIONAL', 'UNCONDITIONAL', 'GENERAL_1']);
    }
    expect(field(air, 'observedAt').type).toBe('DATETIME');
  });
});

describe('the kitchen-sink fixture', () => {
  let files: CatalogSdlFile[];
  let result: ReturnType<typeof parseCatalogSdl>;
  beforeAll(async () => {
    files = await loadDir(path.join(FIXTURES, 'kitchen-sink'));
    result = parseCatalogSdl(files);
  });

  it('uses every catalog directive and parses without problems', () => {
    const used = new Set<string>();
    for (const f of files) visit(parse(f.source), { Directive: (node) => { used.add(node.name.value); } });
    expect([...used].sort()).toEqual(catalogDirectives.map((d) => d.name).sort());
    expect(result.problems.map(formatProblem)).toEqual([]);
  });

  it('reads departments and function items', () => {
    expect(result.catalog.departments).toEqual([
      { code: 'TEST-A', name: '测试市甲局', uscc: '11441300MB2C09018E', level: 'CITY', isAuthority: true,
        loc: { file: '_departments.graphql', line: 3, column: 3 } },
      { code: 'TEST-B', name: '测试市乙局', uscc: '11441300MB2C090269', level: 'CITY', isAuthority: false,
        loc: { file: '_departments.graphql', line: 4, column: 3 } },
      { code: 'TEST-C', name: '测试区丙局', uscc: '11441302MB2C090341', level: 'DISTRICT', district: '惠城区',
        isAuthority: false, loc: { file: '_departments.graphql', line: 5, column: 3 } },
    ]);
    expect(result.catalog.functionItems).toEqual([
      { code: 'TEST-A-ZN01', departmentCode: 'TEST-A', name: '人员登记', legalBasis: '《测试条例》第三条',
        loc: { file: 'ks-a.graphql', line: 3, column: 3 } },
      { code: 'TEST-A-ZN02', departmentCode: 'TEST-A', name: '其他职能', loc: { file: 'ks-a.graphql', line: 4, column: 3 } },
    ]);
  });

  it('reads every @dataset argument, and the defaults when absent', () => {
    const { fields: personFields, references: personRefs, ...person } = dataset(result.catalog, 'KsPerson');
    expect(person).toEqual({
      code: '9.02/00000001', typeName: 'KsPerson', name: '测试人员信息', summary: '覆盖全部指令的测试数据集。',
      departmentCode: 'TEST-A', functionCode: 'TEST-A-ZN01', format: 'DATABASE', updateCycle: 'WEEKLY',
      shareMode: 'TABLE', openType: 'CONDITIONAL', shareCondition: '经数源部门审核同意。',
      loc: { file: 'ks-a.graphql', line: 6, column: 6 },
    });
    expect(personFields).toHaveLength(10);
    expect(personRefs).toEqual([{
      name: 'accounts', label: '账户', targetDataset: '9.03/00000001', fromField: 'personId', toField: 'ownerId',
      many: true, loc: { file: 'ks-a.graphql', line: 32, column: 3 },
    }]);
    const { fields: _f, references: accountRefs, ...account } = dataset(result.catalog, 'KsAccount');
    expect(account).toEqual({
      code: '9.03/00000001', typeName: 'KsAccount', name: '测试账户信息', summary: '默认参数的数据集。',
      departmentCode: 'TEST-C', format: 'SPREADSHEET', updateCycle: 'OTHER', shareMode: 'API', openType: 'NOT_OPEN',
      loc: { file: 'ks-c.graphql', line: 3, column: 6 },
    });
    expect(accountRefs.map((r) => [r.name, r.many, r.targetDataset])).toEqual([['owner', false, '9.02/00000001']]);
  });

  it('maps every scalar and applies the safe defaults to fields without directives', () => {
    const person = dataset(result.catalog, 'KsPerson');
    expect(person.fields.map((f) => [f.name, f.type])).toEqual([
      ['personId', 'STRING'], ['idNumber', 'STRING'], ['name', 'STRING'], ['mobile', 'STRING'], ['age', 'INT'],
      ['height', 'FLOAT'], ['savings', 'DECIMAL'], ['birthDate', 'DATE'], ['updatedAt', 'DATETIME'], ['active', 'BOOLEAN'],
    ]);
    expect(field(person, 'height')).toEqual({
      name: 'height', label: '身高', type: 'FLOAT', required: false, isKey: false, shareClass: 'CONDITIONAL',
      openType: 'NOT_OPEN', grade: 'GENERAL_2', personal: false, indexed: false, subjectId: false,
      loc: { file: 'ks-a.graphql', line: 27, column: 3 },
    });
    expect(field(person, 'personId')).toMatchObject({ description: '人员编号。', isKey: true, indexed: true, required: true });
    expect(field(person, 'updatedAt')).toMatchObject({ indexed: true, isKey: false });
    expect(field(person, 'idNumber')).toMatchObject({ shareClass: 'NOT_SHARED', openType: 'NOT_OPEN', personal: true });
    expect(person.fields.map((f) => f.grade)).toEqual([
      'GENERAL_1', 'GENERAL_4', 'GENERAL_3', 'GENERAL_2', 'GENERAL_2', 'GENERAL_2', 'IMPORTANT', 'GENERAL_2', 'GENERAL_2', 'CORE',
    ]);
    expect(person.fields.flatMap((f) => (f.mask ? [`${f.name}:${f.mask}`] : []))).toEqual(['name:NAME', 'mobile:MOBILE']);
    const account = dataset(result.catalog, 'KsAccount');
    expect(account.fields.filter((f) => f.isKey).map((f) => f.name)).toEqual(['bankCode', 'accountNo']);
    expect(field(account, 'accountNo')).toMatchObject({ check: 'BANK_CARD' });
    expect(field(account, 'accountNo').mask).toBeUndefined();
    expect(field(account, 'ownerUscc')).toMatchObject({ check: 'USCC', subjectId: true });
  });
});

describe('broken fixtures: one problem kind each, all problems reported with file:line:column', () => {
  const dir = path.join(FIXTURES, 'broken');
  let files: CatalogSdlFile[];
  beforeAll(async () => {
    files = await loadDir(dir);
  });
  const withDepartments = (name: string): CatalogSdlFile[] =>
    files.filter((f) => f.file === '_departments.graphql' || f.file === name);

  it.each<[string, string, string[]]>([
    ['unknown directive', 'unknown-directive.graphql', [
      'unknown-directive.graphql:5:37 Unknown directive "@sensitive".',
      'unknown-directive.graphql:6:33 Unknown directive "@shared".',
    ]],
    ['unknown argument', 'unknown-argument.graphql', [
      'unknown-argument.graphql:4:101 Unknown argument "owner" on directive "@dataset".',
      'unknown-argument.graphql:5:37 Unknown argument "en" on directive "@label".',
    ]],
    ['duplicate resource code', 'duplicate-resource-code.graphql', [
      'duplicate-resource-code.graphql:9:18 Duplicate resource code "9.01/00000003"; first used by "DuplicateCodeFirst" at duplicate-resource-code.graphql:4:18.',
    ]],
    ['dataset without a key', 'dataset-without-key.graphql', [
      'dataset-without-key.graphql:3:6 Dataset "WithoutKey" has no @key field; rows must be addressable.',
    ]],
    ['NOT_SHARED key field', 'not-shared-key.graphql', [
      'not-shared-key.graphql:5:45 Key field "NotSharedKey.idNumber" is NOT_SHARED; a key must be shareable because rows are addressed by it.',
    ]],
    ['masked key field', 'masked-key.graphql', [
      'masked-key.graphql:5:44 Key field "MaskedKey.accountNo" has @mask; keys are returned in clear because rows are addressed and joined by them (mask other fields).',
    ]],
    ['NOT_SHARED field marked open', 'not-shared-open.graphql', [
      'not-shared-open.graphql:6:59 Field "NotSharedOpen.name" is NOT_SHARED (不予共享) and must also be NOT_OPEN (不予开放), not CONDITIONAL.',
    ]],
    ['unknown department', 'unknown-department.graphql', [
      'unknown-department.graphql:1:35 Unknown department "TEST-NOPE": no @department(code: "TEST-NOPE") is declared in the catalog.',
    ]],
    ['many problems in one file', 'many-problems.graphql', [
      'many-problems.graphql:4:18 Resource code "not a code" does not match /^[0-9A-Za-z]+(\\.[0-9A-Za-z]+)*\\/[0-9A-Za-z]+$/ (信息资源代码 前段码/后段码).',
      'many-problems.graphql:4:91 Directive "@dataset" argument "updateCycle" has invalid value HOURLY; expected UpdateCycle! (one of REALTIME, DAILY, WEEKLY, MONTHLY, QUARTERLY, HALF_YEARLY, YEARLY, OTHER).',
      'many-problems.graphql:4:109 Function "F-9" is not in the 职能数据清单 of "TEST-A": declare it with @function(code: "F-9", name: "…").',
      'many-problems.graphql:5:14 Key field "ManyProblems.id" must be non-null (String!).',
      'many-problems.graphql:6:29 @mask applies to String fields only; "ManyProblems.age" is Int.',
      'many-problems.graphql:7:3 Field "ManyProblems.note" has no @label(zh: "…"); every field needs its Chinese name (信息项名称).',
      'many-problems.graphql:7:42 Field "ManyProblems.note" is NOT_SHARED (不予共享) and must also be NOT_OPEN (不予开放), not UNCONDITIONAL.',
      'many-problems.graphql:8:9 Unsupported field type [String] on "ManyProblems.tags": lists are only for @ref fields.',
      'many-problems.graphql:9:10 Unknown type "ManyProblemsOther" on "ManyProblems.other".',
      'many-problems.graphql:10:33 The directive "@label" can only be used once at this location.',
      'many-problems.graphql:10:63 Directive "@share" argument "class" has invalid value SECRET; expected ShareClass! (one of UNCONDITIONAL, CONDITIONAL, NOT_SHARED).',
    ]],
  ])('%s', (_kind, name, expected) => {
    expect(problemsOf(withDepartments(name))).toEqual(expected);
  });

  it('reports the union of every file\'s problems when the whole folder is checked', () => {
    const all = problemsOf(files);
    const perFile = files
      .filter((f) => f.file !== '_departments.graphql')
      .flatMap((f) => problemsOf(withDepartments(f.file)));
    expect(all).toEqual(perFile);
    expect(all).toHaveLength(21);
  });
});

describe('more problem kinds', () => {
  const DEPARTMENTS: CatalogSdlFile = {
    file: '_departments.graphql',
    source: [
      'extend schema',
      '  @department(code: "TEST-A", name: "甲局", uscc: "11441300MB2C09018E", level: CITY)',
      '  @department(code: "TEST-B", name: "乙局", uscc: "11441300MB2C090269", level: CITY)',
    ].join('\n'),
  };
  /** A valid dataset type `T` of TEST-A, plus extra lines inside it. */
  const sourceA = (...lines: string[]): string => [
    'extend schema @source(department: "TEST-A") @function(code: "F1", name: "职能")',
    'type T @dataset(code: "1.2/3", name: "数据集", summary: "s", format: DATABASE, updateCycle: DAILY) {',
    '  id: String! @key @label(zh: "编号")',
    ...lines,
    '}',
  ].join('\n');
  const file = (name: string, source: string): CatalogSdlFile => ({ file: name, source });

  it.each<[string, CatalogSdlFile[], string[]]>([
    ['a syntax error is reported and the other files are still checked', [
      DEPARTMENTS,
      file('a.graphql', 'type {'),
      file('b.graphql', sourceA('  x: Int')),
    ], [
      'a.graphql:1:6 Syntax Error: Expected Name, found "{".',
      'b.graphql:4:3 Field "T.x" has no @label(zh: "…"); every field needs its Chinese name (信息项名称).',
    ]],
    ['a missing required argument', [DEPARTMENTS, file('a.graphql', sourceA('  x: Int @label'))], [
      'a.graphql:4:10 Directive "@label" argument "zh" of type "String!" is required, but it was not provided.',
    ]],
    ['a wrongly typed argument value', [DEPARTMENTS, file('a.graphql', sourceA('  x: Int @label(zh: 3) @grade(level: "CORE")'))], [
      'a.graphql:4:21 Directive "@label" argument "zh" has invalid value 3; expected String!.',
      'a.graphql:4:38 Directive "@grade" argument "level" has invalid value "CORE"; expected Grade! (one of CORE, IMPORTANT, GENERAL_4, GENERAL_3, GENERAL_2, GENERAL_1).',
    ]],
    ['a directive in the wrong place', [DEPARTMENTS, file('a.graphql', sourceA('  x: Int @label(zh: "x") @dataset(code: "1/2")'))], [
      'a.graphql:4:26 Directive "@dataset" may not be used on FIELD_DEFINITION.',
    ]],
    ['a duplicate type name, at the second declaration', [
      DEPARTMENTS,
      file('a.graphql', sourceA()),
      file('b.graphql', 'extend schema @source(department: "TEST-B")\ntype T @dataset(code: "1.2/4", name: "n", summary: "s", format: DATABASE, updateCycle: DAILY) {\n  id: String! @key @label(zh: "编号")\n}'),
    ], [
      'b.graphql:2:6 Duplicate type name "T"; first declared at a.graphql:2:6.',
    ]],
    ['a type name of the prelude', [DEPARTMENTS, file('a.graphql', sourceA().replace('type T', 'type Date'))], [
      'a.graphql:2:6 Type name "Date" is reserved by the catalog prelude.',
    ]],
    ['an object type without @dataset and an unsupported definition', [
      DEPARTMENTS,
      file('a.graphql', `${sourceA()}\ntype U {\n  id: String! @key @label(zh: "编号")\n}\nenum E { A }`),
    ], [
      'a.graphql:5:6 Type "U" has no @dataset(...); every object type of the catalog is a dataset.',
      'a.graphql:8:6 Unsupported definition (EnumTypeDefinition): a catalog file holds `extend schema` and dataset object types only; the prelude declares the shared enums and scalars.',
    ]],
    ['datasets in a file without @source', [DEPARTMENTS, file('a.graphql', sourceA().replace(/^extend schema.*\n/, ''))], [
      'a.graphql:1:6 Datasets in this file have no source department: add `extend schema @source(department: "…")`.',
    ]],
    ['a second @source in one file', [DEPARTMENTS, file('a.graphql', `${sourceA()}\nextend schema @source(department: "TEST-B")`)], [
      'a.graphql:5:15 This file already declares @source at a.graphql:1:15; one source department per file.',
    ]],
    ['department registry problems', [
      file('_departments.graphql', [
        'extend schema',
        '  @department(code: "TEST-A", name: "甲局", uscc: "11441300MB2C09018E", level: CITY)',
        '  @department(code: "TEST-A", name: "甲局二", uscc: "11441300MB2C090269", level: CITY)',
        '  @department(code: "TEST-X", name: "错码局", uscc: "11441300MB2C090260", level: CITY)',
        '  @department(code: "TEST-D", name: "区局", uscc: "11441302MB2C090341", level: DISTRICT)',
      ].join('\n')),
    ], [
      '_departments.graphql:3:21 Duplicate department code "TEST-A"; first declared at _departments.graphql:2:3.',
      '_departments.graphql:4:50 Department "TEST-X": uscc "11441300MB2C090260" fails the GB 32100 checksum (统一社会信用代码).',
      '_departments.graphql:5:3 Department "TEST-D" is DISTRICT level and needs district: "…".',
    ]],
    ['function items: duplicate code, undeclared function, @function without @source', [
      DEPARTMENTS,
      file('a.graphql', sourceA().replace('updateCycle: DAILY', 'updateCycle: DAILY, function: "F9"') + '\nextend schema @function(code: "F1", name: "重复")'),
      file('b.graphql', 'extend schema @function(code: "F2", name: "无部门")'),
    ], [
      'a.graphql:2:107 Function "F9" is not in the 职能数据清单 of "TEST-A": declare it with @function(code: "F9", name: "…").',
      'a.graphql:5:31 Duplicate function code "F1" of department "TEST-A"; first declared at a.graphql:1:45.',
      'b.graphql:1:15 @function "F2" needs the file\'s department: add `extend schema @source(department: "…")`.',
    ]],
    ['field rules: nullable key, @check/@subject on non-strings, field arguments, duplicate field', [
      DEPARTMENTS,
      file('a.graphql', sourceA(
        '  k2: Int @key @label(zh: "键二") @check(rule: USCC) @subject',
        '  f(x: Int): String @label(zh: "参数")',
        '  id: String @label(zh: "重复")',
        '  empty: String @label(zh: " ")',
      )),
    ], [
      'a.graphql:4:11 Key field "T.k2" must be non-null (Int!).',
      'a.graphql:4:33 @check applies to String fields only; "T.k2" is Int.',
      'a.graphql:4:52 @subject applies to String fields only; "T.k2" is Int.',
      'a.graphql:5:5 Field "T.f" takes no arguments; the gateway generates filters.',
      'a.graphql:6:3 Duplicate field "T.id"; first declared at a.graphql:3:3.',
      'a.graphql:7:28 Field "T.empty" has an empty @label.',
    ]],
    ['reference problems', [
      DEPARTMENTS,
      file('a.graphql', sourceA(
        '  n: Int @label(zh: "数")',
        '  r1: [T!] @ref(dataset: "9/9", from: "id", to: "id") @label(zh: "一")',
        '  r2: [T!] @ref(dataset: "1.2/3", from: "nope", to: "nada") @label(zh: "二")',
        '  r3: T @ref(dataset: "1.2/3", from: "n", to: "id") @label(zh: "三")',
        '  r4: [T!] @ref(dataset: "1.2/3", from: "id", to: "id") @label(zh: "四") @index',
        '  r5: T @label(zh: "五")',
        '  r6: String @ref(dataset: "1.2/3", from: "id", to: "id") @label(zh: "六")',
        '  r7: U @ref(dataset: "1.2/4", from: "id", to: "n") @label(zh: "七")',
      )),
      file('b.graphql', 'extend schema @source(department: "TEST-A")\ntype U @dataset(code: "1.2/4", name: "U", summary: "s", format: DATABASE, updateCycle: DAILY) {\n  id: String! @key @label(zh: "编号")\n  n: String @label(zh: "n")\n}'),
    ], [
      'a.graphql:5:26 @ref on "T.r1": dataset "9/9" is not a resource code of the catalog.',
      'a.graphql:6:41 @ref on "T.r2": from "nope" is not a field of "T".',
      'a.graphql:6:53 @ref on "T.r2": to "nada" is not a field of "T".',
      'a.graphql:7:9 @ref on "T.r3" compares T.n (INT) with T.id (STRING).',
      'a.graphql:8:73 Directive "@index" has no effect on the reference field "T.r4".',
      'a.graphql:9:3 Field "T.r5" has the dataset type T: add @ref(dataset: "…", from: "…", to: "…").',
      'a.graphql:10:14 @ref on "T.r6" needs a field whose type is a dataset type, not String.',
      'a.graphql:11:48 @ref on "T.r7" is to-one, so "to" must be the single @key field of "U".',
    ]],
    ['a to-many reference to an unindexed field and a type that is not the target\'s', [
      DEPARTMENTS,
      file('a.graphql', sourceA(
        '  r1: [U!] @ref(dataset: "1.2/4", from: "id", to: "n") @label(zh: "一")',
        '  r2: U @ref(dataset: "1.2/3", from: "id", to: "id") @label(zh: "二")',
      )),
      file('b.graphql', 'extend schema @source(department: "TEST-A")\ntype U @dataset(code: "1.2/4", name: "U", summary: "s", format: DATABASE, updateCycle: DAILY) {\n  id: String! @key @label(zh: "编号")\n  n: String @label(zh: "n")\n}'),
    ], [
      'a.graphql:4:51 @ref on "T.r1": U.n must be @key or @index so the lookup is index-backed.',
      'a.graphql:5:7 @ref on "T.r2": dataset "1.2/3" is type "T", but the field\'s type is "U".',
    ]],
    ['an electronic file shared other than as FILE', [
      DEPARTMENTS,
      file('a.graphql', sourceA().replace('format: DATABASE', 'format: ELECTRONIC_FILE')),
    ], [
      'a.graphql:2:8 An ELECTRONIC_FILE resource must be shared as FILE, not API (DOMAIN.md §4).',
    ]],
  ])('%s', (_kind, files, expected) => {
    expect(problemsOf(files)).toEqual(expected);
  });

  it('checks resource codes against a configured pattern', () => {
    const files = [DEPARTMENTS, { file: 'a.graphql', source: sourceA() }];
    expect(problemsOf(files, { resourceCodePattern: /^\d{5}\/\d{8}$/ })).toEqual([
      'a.graphql:2:23 Resource code "1.2/3" does not match /^\\d{5}\\/\\d{8}$/ (信息资源代码 前段码/后段码).',
    ]);
    expect(problemsOf(files)).toEqual([]);
  });
});
