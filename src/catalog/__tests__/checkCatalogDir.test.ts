import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCatalogCheck } from '../checkCatalogDir';

const ROOT = path.resolve(__dirname, '../../..');
const BROKEN = 'src/__testUtils__/fixtures/catalog/broken';
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** A sample of the lines the broken folder must produce, one per problem kind. */
const EXPECTED_BROKEN_LINES = [
  `${BROKEN}/dataset-without-key.graphql:3:6 Dataset "WithoutKey" has no @key field; rows must be addressable.`,
  `${BROKEN}/duplicate-resource-code.graphql:9:18 Duplicate resource code "9.01/00000003"; first used by "DuplicateCodeFirst" at ${BROKEN}/duplicate-resource-code.graphql:4:18.`,
  `${BROKEN}/not-shared-key.graphql:5:45 Key field "NotSharedKey.idNumber" is NOT_SHARED; a key must be shareable because rows are addressed by it.`,
  `${BROKEN}/masked-key.graphql:5:44 Key field "MaskedKey.accountNo" has @mask; keys are returned in clear because rows are addressed and joined by them (mask other fields).`,
  `${BROKEN}/not-shared-open.graphql:6:59 Field "NotSharedOpen.name" is NOT_SHARED (不予共享) and must also be NOT_OPEN (不予开放), not CONDITIONAL.`,
  `${BROKEN}/unknown-argument.graphql:4:101 Unknown argument "owner" on directive "@dataset".`,
  `${BROKEN}/unknown-department.graphql:1:35 Unknown department "TEST-NOPE": no @department(code: "TEST-NOPE") is declared in the catalog.`,
  `${BROKEN}/unknown-directive.graphql:5:37 Unknown directive "@sensitive".`,
];

function withoutCatalogDir(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CATALOG_DIR: _ignored, ...rest } = env;
  return rest;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(TSX, ['src/cli/catalogCheck.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...withoutCatalogDir(process.env), ...env },
    timeout: 30_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('runCatalogCheck', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = process.cwd();
    process.chdir(ROOT); // display paths are relative to the working directory
  });
  afterAll(() => process.chdir(cwd));

  it('summarizes the shipped catalog and exits 0', async () => {
    await expect(runCatalogCheck('schema')).resolves.toEqual({
      exitCode: 0,
      output: 'schema: catalog OK: 7 departments, 6 datasets, 57 fields, 3 references',
    });
  });

  it('lists every problem as file:line:column message and exits 1', async () => {
    const { exitCode, output } = await runCatalogCheck(BROKEN);
    expect(exitCode).toBe(1);
    const lines = output.split('\n');
    expect(lines).toHaveLength(22);
    expect(lines).toEqual(expect.arrayContaining(EXPECTED_BROKEN_LINES));
    expect(lines.slice(0, -1).every((l) => l.startsWith(`${BROKEN}/`) && /^\S+:\d+:\d+ /.test(l))).toBe(true);
    expect(lines[21]).toBe(`${BROKEN}: 21 catalog problems`);
  });

  it('fails on a folder without catalog files', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'catalog-empty-'));
    try {
      await expect(runCatalogCheck(empty)).resolves.toEqual({ exitCode: 1, output: `${empty}: no *.graphql catalog files found` });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('exits 2 when the folder cannot be read', async () => {
    const { exitCode, output } = await runCatalogCheck('no/such/dir');
    expect(exitCode).toBe(2);
    expect(output).toMatch(/^no\/such\/dir: cannot read the catalog directory \(ENOENT/);
  });
});

describe('npm run catalog:check (child process)', () => {
  it('prints the problems of a broken folder to stderr and exits non-zero', () => {
    const { status, stdout, stderr } = runCli([BROKEN]);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toEqual(expect.arrayContaining(EXPECTED_BROKEN_LINES));
    expect(lines).toHaveLength(22);
  });

  it('checks schema/ by default and exits 0', () => {
    const { status, stdout, stderr } = runCli([]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe('schema: catalog OK: 7 departments, 6 datasets, 57 fields, 3 references\n');
  });

  it('takes the folder from CATALOG_DIR when no argument is given', () => {
    const { status, stdout } = runCli([], { CATALOG_DIR: 'src/__testUtils__/fixtures/catalog/kitchen-sink' });
    expect(status).toBe(0);
    expect(stdout).toBe('src/__testUtils__/fixtures/catalog/kitchen-sink: catalog OK: 3 departments, 2 datasets, 14 fields, 2 references\n');
  });
});
