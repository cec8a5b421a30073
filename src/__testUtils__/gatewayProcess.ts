/**
 * The gateway as its own operating-system process: the built `dist/src/main.js` (`npm test`
 * builds first), as `npm start` runs it. Resolves once it logs "gateway ready".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface GatewayProcess {
  child: ChildProcess;
  /** The /graphql URL it listens on. */
  url: string;
  /** Its log lines (JSON), as they come. */
  lines: Record<string, unknown>[];
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

export function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += String(c)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'gateway ready') resolve({ child, url: entry.url as string, lines, exited, stop });
      } catch {
        /* not a log line */
      }
    });
    void exited.then((code) =>
      reject(new Error(`gateway exited with ${code} before it was ready:\n${stderr}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)),
    );
  });
}
