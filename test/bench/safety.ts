/**
 * bench:safety — from the Modbus response that crosses a gas setpoint to the relay write leaving on the wire
 * (issue 3, "Timing").
 *
 * A simulator in a child process (wire-timed 9600 8N1 line, 5 ms turnaround) carries eight gas probes and a relay
 * board; the agent runs in this process with all probes polled back-to-back, so the bus is always busy. The bench
 * flips probe 1 between a low and a high concentration (a line on the child's stdin) and, per crossing, measures
 *   latency = (trace 'sent' of the FC05 write to the relay board) − (trace 'completed' of the probe-1 read whose
 *   reading crossed the setpoint),
 * with the store normal, and with every state commit taking 500 ms longer. Target: p99 ≤ one bus transaction
 * (median probe read, 'sent' → 'completed') + 5 ms, in both scenarios.
 *
 * Usage: npm run bench:safety [-- --crossings 120 --json FILE]
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadProfiles, shippedProfileDir } from '../../config/load/index.js';
import { t35Ms } from '../../drivers/modbus/rtu.js';
import { LINE, TURNAROUND_MS, WARMUP, median, runScenario, type Result, type Scenario } from './support/safety-scenario.js';

const { values: args } = parseArgs({
  options: { crossings: { type: 'string', default: '120' }, json: { type: 'string' } },
});
/** ON crossings per scenario (as many OFF crossings come with them). */
const CROSSINGS = Number(args.crossings);
const fmt = (ms: number) => ms.toFixed(1).padStart(7);

async function main(): Promise<void> {
  const { profiles: loaded, errors } = loadProfiles([shippedProfileDir()]);
  if (errors.length > 0) throw new Error(`profiles: ${errors.map((e) => e.message).join('; ')}`);
  const profiles = new Map([...loaded].map(([id, { profile }]) => [id, profile]));

  const scenarios: Scenario[] = [
    { name: '(a) bus busy, normal store', commitDelayMs: 0, crossings: CROSSINGS },
    { name: '(b) bus busy, commit +500 ms', commitDelayMs: 500, crossings: CROSSINGS },
  ];
  const loadBefore = loadavg()[0]!;
  const results: Result[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, profiles));
  const loadAfter = loadavg()[0]!;

  const transactionMs = median(results.map((r) => r.transactionMs));
  const targetMs = transactionMs + 5;
  console.log(
    `bench:safety — 9600 8N1 (t3.5 ${t35Ms(LINE).toFixed(2)} ms), turnaround ${TURNAROUND_MS} ms; 8 gas probes polled every 50 ms + relay board; ` +
      `delayOn 1 sample, minOn/minOff 0; ${CROSSINGS} ON + ${CROSSINGS} OFF crossings per scenario after ${WARMUP} + ${WARMUP} uncounted; ` +
      `host ${cpus().length} CPUs, load avg ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`,
  );
  console.log(
    `${'scenario'.padEnd(30)} ${'dir'.padEnd(3)} ${'n'.padStart(4)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'p99≤tgt'.padStart(7)} ${'missed'.padStart(6)} ` +
      `${'wire busy'.padStart(9)} ${'commits'.padStart(7)} ${'loop lag p99/max ms'.padStart(19)} ${'secs'.padStart(5)}`,
  );
  for (const r of results) {
    for (const dir of ['on', 'off'] as const) {
      const s = r[dir];
      console.log(
        `${(dir === 'on' ? r.scenario : '').padEnd(30)} ${dir.toUpperCase().padEnd(3)} ${String(s.n).padStart(4)} ${fmt(s.p50)} ${fmt(s.p99)} ${fmt(s.max)} ` +
          `${(s.p99 <= targetMs ? 'yes' : 'NO').padStart(7)} ${String(s.missing + s.overtaken).padStart(6)} ` +
          (dir === 'on'
            ? `${(r.busBusy * 100).toFixed(0).padStart(8)}% ${String(r.commits).padStart(7)} ${`${r.lagP99Ms.toFixed(1)} / ${r.lagMaxMs.toFixed(1)}`.padStart(19)} ${r.seconds.toFixed(0).padStart(5)}`
            : ''),
      );
    }
  }
  const [a, b] = results as [Result, Result];
  console.log(
    `one bus transaction (median probe read, sent→completed): ${transactionMs.toFixed(1)} ms → target p99 ≤ ${targetMs.toFixed(1)} ms; ` +
      `p99 (b)/(a): ON ${(b.on.p99 / a.on.p99).toFixed(2)}, OFF ${(b.off.p99 / a.off.p99).toFixed(2)}`,
  );
  console.log(
    `relay writes ${results.map((r) => `${r.writesOk} ok / ${r.writesFailed} failed`).join(', ')}; median silence between transactions ` +
      `${results.map((r) => r.gapMs.toFixed(1)).join(' / ')} ms (t3.5 + 20 ms request gap: the line never idles); missed = no write, or one behind another request`,
  );
  console.log('(c) broker not answering: comes with the uplink (no broker yet)');
  console.log('command: npm run bench:safety');
  if (args.json) writeFileSync(args.json, JSON.stringify({ transactionMs, targetMs, results }, null, 2));
}

await main();
