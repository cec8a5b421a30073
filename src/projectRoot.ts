import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root (folder of package.json), whether running from src/ (tsx, jest) or dist/. */
export const PROJECT_ROOT: string = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
})();
