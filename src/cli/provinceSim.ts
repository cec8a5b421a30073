/**
 * `npm run province:sim`: the provincial open-data platform simulator (src/province/simulator.ts)
 * for the demo and benchmarks. Listens on 127.0.0.1:$PROVINCE_SIM_PORT (default 4300); platform
 * requests need `Authorization: Bearer $PROVINCE_SIM_TOKEN` when that is set (the `/_…` control
 * API never does). Runs until SIGINT or SIGTERM. See src/province/README.md.
 */
import { startProvinceSimulator } from '../province/simulator';

const DEFAULT_PORT = 4300;

async function main(): Promise<void> {
  const portText = process.env.PROVINCE_SIM_PORT || String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`PROVINCE_SIM_PORT must be a port number, not "${portText}"`);
  const token = process.env.PROVINCE_SIM_TOKEN || undefined;
  const sim = await startProvinceSimulator({ port, host: '127.0.0.1', token });
  process.stdout.write(
    `province simulator listening on ${sim.url} (${token ? 'bearer token required' : 'no authentication'}); ` +
      `control: ${sim.url}/_stats, POST ${sim.url}/_faults, POST ${sim.url}/_reset\n`,
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping the province simulator\n`);
    sim.stop().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 2;
});
