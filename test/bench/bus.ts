/**
 * bench:bus — how close the bus owner gets to the physical limit of an RS-485 line.
 *
 * A simulator in a child process answers with wire-timing emulation (request and response on the wire, t3.5,
 * turnaround); this process polls it through ModbusBus as fast as it will go. Printed beside each figure: the
 * theoretical maximum for the same frames (libraries.md, "Physical limits"), and the ratio.
 *
 * Usage: npm run bench:bus [-- --seconds 8 --json FILE]
 */
import type { ChildProcess } from 'node:child_process';
import { startChildSimulator } from './support/child-simulator.js';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ModbusBus } from '../../agent/bus/index.js';
import { charTimeMs, t35Ms, type LineSettings } from '../../drivers/modbus/rtu.js';
import type { SimChildOptions } from './sim-child.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '8' }, json: { type: 'string' } },
});
const MEASURE_MS = Number(args.seconds) * 1000;

interface Scenario {
  name: string;
  baud: number;
  slaves: number;
  registers: number;
  deadSlaves: number;
  turnaroundMs: number;
}

interface Result extends Scenario {
  theoreticalPollsPerSec: number;
  pollsPerSec: number;
  registersPerSec: number;
  ratio: number;
  cpuMsPerPoll: number;
  rssMb: number;
  failedPolls: number;
}

function lineAt(baud: number): LineSettings {
  // 8E1 = 11 bits per character: the notes' reference table uses 11-bit characters.
  return { baud, dataBits: 8, parity: 'even', stopBits: 1 };
}

/** One FC03 transaction on the wire: request 8 chars, response 5 + 2N, t3.5 after each, plus turnaround. */
export function theoreticalPollsPerSec(line: LineSettings, registers: number, turnaroundMs: number): number {
  const cycleMs = charTimeMs(line) * (8 + 5 + 2 * registers) + 2 * t35Ms(line) + turnaroundMs;
  return 1000 / cycleMs;
}

function startSimChild(options: SimChildOptions): Promise<{ child: ChildProcess; port: number }> {
  return startChildSimulator(fileURLToPath(new URL('./sim-child.js', import.meta.url)), options);
}

async function runScenario(scenario: Scenario): Promise<Result> {
  const line = lineAt(scenario.baud);
  const units = Array.from({ length: scenario.slaves }, (_, i) => ({
    unit: i + 1,
    fault: i < scenario.deadSlaves ? { kind: 'silent' as const } : null,
  }));
  const { child, port } = await startSimChild({ units, registers: scenario.registers, line, turnaroundMs: scenario.turnaroundMs });
  const bus = new ModbusBus({ id: 'bench', transport: { kind: 'tcp', host: '127.0.0.1', port, line }, timeoutMs: 200, retries: 1 });
  for (const { unit } of units) {
    bus.addDevice(`unit${unit}`, { unit, breaker: { failures: 3, minBackoff: 2000, maxBackoff: 60_000 } });
  }
  bus.start();
  await new Promise<void>((resolve) => bus.once('connected', resolve));

  let measuring = false;
  let polls = 0;
  let failed = 0;
  let stop = false;
  const block = { fn: 3 as const, address: 0, count: scenario.registers };
  const loops = units.map(async ({ unit }) => {
    const good = unit > scenario.deadSlaves;
    while (!stop) {
      const outcome = await bus.read(`unit${unit}`, block, 'normal');
      // A read refused by an open breaker resolves at once; pace it like a poll interval would, or this
      // loop would spin on resolved promises and starve the event loop.
      if (!outcome.ok && outcome.failure === 'breaker-open') await new Promise((r) => setTimeout(r, 20));
      if (!measuring || !good) continue;
      if (outcome.ok) polls++;
      else failed++;
    }
  });
  // Warm up until a dead slave's breaker has opened (its first timeouts are the cost of noticing it).
  await new Promise((r) => setTimeout(r, scenario.deadSlaves > 0 ? 2500 : 500));
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  measuring = false;
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  stop = true;
  await bus.stop();
  await Promise.all(loops);
  child.kill('SIGTERM');

  const theoretical = theoreticalPollsPerSec(line, scenario.registers, scenario.turnaroundMs);
  const pollsPerSec = (polls * 1000) / elapsedMs;
  return {
    ...scenario,
    theoreticalPollsPerSec: theoretical,
    pollsPerSec,
    registersPerSec: pollsPerSec * scenario.registers,
    ratio: pollsPerSec / theoretical,
    cpuMsPerPoll: polls > 0 ? (cpu.user + cpu.system) / 1000 / polls : NaN,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    failedPolls: failed,
  };
}

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const baud of [9600, 115200]) {
    for (const slaves of [1, 8]) {
      for (const registers of [2, 10]) {
        list.push({ name: `${baud} baud, ${slaves} slave(s), ${registers} regs`, baud, slaves, registers, deadSlaves: 0, turnaroundMs: 0 });
      }
    }
    list.push({ name: `${baud} baud, 8 slaves (1 dead), 10 regs`, baud, slaves: 8, registers: 10, deadSlaves: 1, turnaroundMs: 0 });
  }
  return list;
}

async function main(): Promise<void> {
  const results: Result[] = [];
  console.log(`bench:bus — ${MEASURE_MS / 1000} s per scenario, 8E1 (11-bit characters), FC03, turnaround 0 ms`);
  console.log(
    `${'scenario'.padEnd(38)} ${'polls/s'.padStart(8)} ${'theory'.padStart(8)} ${'ratio'.padStart(6)} ${'regs/s'.padStart(8)} ${'cpu ms/poll'.padStart(12)} ${'rss MB'.padStart(7)}`,
  );
  for (const scenario of scenarios()) {
    const r = await runScenario(scenario);
    results.push(r);
    console.log(
      `${r.name.padEnd(38)} ${r.pollsPerSec.toFixed(1).padStart(8)} ${r.theoreticalPollsPerSec.toFixed(1).padStart(8)} ${(r.ratio * 100).toFixed(1).padStart(5)}% ${r.registersPerSec.toFixed(0).padStart(8)} ${r.cpuMsPerPoll.toFixed(3).padStart(12)} ${r.rssMb.toFixed(0).padStart(7)}`,
    );
  }
  for (const baud of [9600, 115200]) {
    const healthy = results.find((r) => r.baud === baud && r.slaves === 8 && r.registers === 10 && r.deadSlaves === 0);
    const withDead = results.find((r) => r.baud === baud && r.deadSlaves === 1);
    if (healthy && withDead) {
      // Compare per good slave: 7 good slaves share the wire with a dead one vs 8 good slaves sharing it.
      const perSlaveHealthy = healthy.pollsPerSec / 8;
      const perSlaveWithDead = withDead.pollsPerSec / 7;
      const cost = 1 - (withDead.pollsPerSec / healthy.pollsPerSec);
      console.log(
        `${baud} baud: one dead slave costs the others ${(cost * 100).toFixed(1)}% of bus throughput ` +
          `(per good slave: ${perSlaveHealthy.toFixed(1)} → ${perSlaveWithDead.toFixed(1)} polls/s)`,
      );
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
}

await main();
