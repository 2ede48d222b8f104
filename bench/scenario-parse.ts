/**
 * The scenario parser on the worst inputs its limits let through (a file of at most 1 MB):
 * time and memory until the one clear error. Before the limits, a 100 MB file parsed for 24 s
 * in 3.6 GB; 7.5 M steps ran Node out of memory; the yaml package's duplicate-key check made a
^ * map with many keys quadratic; 1 MB of "[[[[" took about 1 GB. Each case runs in its own child process, so memory figures do
 * not mix.
 *
 *   node --import tsx bench/scenario-parse.ts
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadScenario, MAX_SCENARIO_BYTES, parseScenario } from '../src/scenarios/parse';

const FILL = MAX_SCENARIO_BYTES - 64;
/** item(0), item(1), … joined by sep, as many as fit in FILL characters. */
const fill = (item: (i: number) => string, sep: string) => {
  const out: string[] = [];
  for (let i = 0, n = 0; (n += item(i).length + sep.length) < FILL; i++) out.push(item(i));
  return out.join(sep);
};
const CASES: Record<string, () => string> = {
  'steps: 1 MB of "- up"': () => `name: t\nsteps:\n${'  - up\n'.repeat(Math.floor(FILL / 7))}`,
  'one block map with 1 MB of keys': () => `name: t\nsteps:\n  - up\n${fill((i) => `k${i}: 1`, '\n')}\n`,
  'one flow map with 1 MB of keys': () => `name: t\nsteps:\n  - assert: {${fill((i) => `k${i}: 1`, ', ')}}\n`,
  'flow nesting 1 MB deep': () => `name: t\nsteps: ${'['.repeat(FILL)}\n`,
  'block nesting by indentation, 1400 levels': () => `name: t\nsteps:\n${Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i + 2)}a:`).join('\n')} 1\n`,
  'anchors: 1 MB of "- &aN up"': () => `name: t\nsteps:\n${fill((i) => `  - &a${i} up`, '\n')}\n`,
  'a say: of 1 MB': () => `name: t\nsteps:\n  - say: ${'x'.repeat(FILL)}\n`,
};

function runCase(name: string): void {
  const text = CASES[name]!();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let outcome: string;
  try {
    parseScenario(text, 'f.yaml');
    outcome = 'parsed';
  } catch (err) {
    outcome = (err as Error).message.slice(0, 90);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
  console.log(
    `${name.padEnd(42)} ${(Buffer.byteLength(text) / 1024).toFixed(0).padStart(5)} KB  ${ms.toFixed(0).padStart(6)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0).padStart(5)} ms)  peak RSS ${mb(process.resourceUsage().maxRSS * 1024).padStart(7)}  → ${outcome}`,
  );
}

if (process.argv[2]) runCase(process.argv[2]);
else {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`);
  for (const name of Object.keys(CASES)) {
    process.stdout.write(execFileSync(process.execPath, [...process.execArgv, __filename, name], { encoding: 'utf8' }));
  }
  // A 100 MB (sparse) file: refused by its size, before it is read.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scenario-'));
  const file = path.join(dir, 'big.yaml');
  fs.writeFileSync(file, 'name: t\nsteps:\n  - up\n');
  fs.truncateSync(file, 100 * 1024 * 1024);
  const t0 = performance.now();
  try {
    loadScenario(file, dir);
  } catch (err) {
    console.log(
      `${'a 100 MB file (sparse)'.padEnd(42)} ${(performance.now() - t0).toFixed(1).padStart(14)} ms  → ${(err as Error).message.replace(file, 'big.yaml')}`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
