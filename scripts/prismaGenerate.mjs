// Generates the Prisma client into src/generated/prisma (run by `npm install` / `npm ci`).
// Prisma 7's CLI tries to download its native schema engine first; that server is out of
// reach on our machines and `generate` does not need the engine, so we point
// PRISMA_SCHEMA_ENGINE_BINARY at any existing executable (ENVIRONMENT.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const cli = 'node_modules/prisma/build/index.js';
if (!existsSync(cli)) {
  console.log('prisma CLI not installed (production install?); skipping client generation');
  process.exit(0);
}
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const r = spawnSync(process.execPath, [cli, 'generate', '--schema', 'prisma/schema.prisma'], { env, stdio: 'inherit' });
process.exit(r.status ?? 1);
